"""API secrets: vendor token formats, JWTs, PEM private keys and high-entropy `key=...` values.

Vendor formats (AWS, Azure storage keys and SAS signatures, GitHub, GitLab, Slack, Stripe,
OpenAI/Anthropic, Google, Hugging Face, npm, PyPI, SendGrid, Twilio, Heroku, Mailgun, DigitalOcean,
Vault, Atlassian, Shopify, Square, Discord, Telegram, Postman, Databricks, New Relic, Sentry,
Grafana, Linear, Doppler, Pulumi, Mailchimp, age) are recognised by their fixed prefixes or shapes.
An AWS secret access key has no prefix, so it counts only next to its name or within a short
distance after an access key id (a pair is two spans). A generic value counts only when assigned
to a secret-sounding name and random-looking (entropy, mixed character classes), which keeps
UUIDs, git SHAs and ordinary words out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Final

from services.guardrail.scanning.prefilter import KeyedLiterals, RunShape
from services.guardrail.scanning.types import Detection

_B: Final = r"(?<![A-Za-z0-9_\-])"      # token start boundary
_E: Final = r"(?![A-Za-z0-9_\-])"       # token end boundary

# (literal hints, pattern): the pattern runs only when a hint occurs, which keeps clean text cheap.
_AWS_PREFIXES: Final = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA",
                        "APKA", "AROA", "ASCA")
_VENDOR: Final[tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]] = tuple(
    (hints, re.compile(pattern)) for hints, pattern in (
        (_AWS_PREFIXES, rf"(?<![A-Za-z0-9])(?:{'|'.join(_AWS_PREFIXES)})[A-Z0-9]{{16}}"
                        r"(?![A-Za-z0-9])"),
        (("gh",), rf"{_B}gh[pousr]_[A-Za-z0-9]{{30,255}}{_E}"),                      # GitHub
        (("github_pat_",), rf"{_B}github_pat_[A-Za-z0-9_]{{22,255}}{_E}"),
        (("glpat-",), rf"{_B}glpat-[A-Za-z0-9_\-]{{20,}}{_E}"),                    # GitLab
        (("xox",), rf"{_B}xox[abposre]-(?:[A-Za-z0-9]+-)+[A-Za-z0-9]+{_E}"),        # Slack
        (("xapp-",), rf"{_B}xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+{_E}"),
        (("hooks.slack.com",),
         r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
        (("sk_", "rk_"), rf"{_B}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{{10,}}{_E}"),  # Stripe
        (("whsec_",), rf"{_B}whsec_[A-Za-z0-9]{{20,}}{_E}"),
        (("sk-",), rf"{_B}sk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_\-]{{20,}}{_E}"),
        (("AIza",), rf"{_B}AIza[0-9A-Za-z_\-]{{35}}{_E}"),                          # Google
        (("hf_",), rf"{_B}hf_[A-Za-z0-9]{{30,}}{_E}"),                               # Hugging Face
        (("npm_",), rf"{_B}npm_[A-Za-z0-9]{{36}}{_E}"),                              # npm
        (("SG.",), rf"{_B}SG\.[A-Za-z0-9_\-]{{16,32}}\.[A-Za-z0-9_\-]{{16,64}}{_E}"),  # SendGrid
        (("SK",), r"(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])"),                # Twilio
        # Azure storage / Service Bus keys and SAS signatures: the key or signature only.
        (("AccountKey=", "SharedAccessKey="),
         r"(?<=AccountKey=)[A-Za-z0-9+/]{40,100}={0,2}|(?<=SharedAccessKey=)[A-Za-z0-9+/]{40,60}={0,2}"),
        (("sig=",), r"(?<=[?&;\s\"']sig=)[A-Za-z0-9%+/]{30,90}(?:%3[Dd]|=){0,2}(?![A-Za-z0-9%+/=])"),
        (("pypi-",), rf"{_B}pypi-Ag[A-Za-z0-9_\-]{{50,}}{_E}"),                          # PyPI
        (("HRKU-",), rf"{_B}HRKU-[A-Za-z0-9_\-]{{20,}}{_E}"),                            # Heroku
        (("key-",), rf"{_B}key-[0-9a-f]{{32}}{_E}"),                                      # Mailgun
        (("_v1_",), rf"{_B}do[opr]_v1_[a-f0-9]{{64}}{_E}"),                               # DigitalOcean
        (("hvs.", "hvb.", "hvr."), rf"{_B}hv[sbr]\.[A-Za-z0-9_\-]{{24,}}{_E}"),          # Vault
        (("ATATT", "ATCTT"), rf"{_B}AT[AC]TT3[A-Za-z0-9_\-=]{{50,}}{_E}"),               # Atlassian
        (("gldt-", "glrt-", "glptt-", "glft-", "glimt-", "glagent-", "glsoat-", "glcbt-"),
         rf"{_B}gl(?:dt|rt|ptt|ft|imt|agent|soat|cbt)-[A-Za-z0-9_\-]{{20,}}{_E}"),       # GitLab
        (("shpat_", "shpss_", "shpca_", "shppa_"), rf"{_B}shp(?:at|ss|ca|pa)_[a-fA-F0-9]{{32}}{_E}"),
        (("sq0atp-", "sq0csp-"), rf"{_B}sq0(?:atp|csp)-[0-9A-Za-z_\-]{{22,43}}{_E}"),    # Square
        (("discord",), r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/"
                       r"[A-Za-z0-9_\-]{60,70}"),
        ((":AA",), r"(?<![A-Za-z0-9:])\d{8,10}:AA[A-Za-z0-9_\-]{33}(?![A-Za-z0-9_\-])"),  # Telegram
        (("ya29.",), rf"{_B}ya29\.[0-9A-Za-z_\-]{{20,}}{_E}"),                           # Google OAuth
        (("GOCSPX-",), rf"{_B}GOCSPX-[A-Za-z0-9_\-]{{28}}{_E}"),
        (("PMAK-",), rf"{_B}PMAK-[a-f0-9]{{24}}-[a-f0-9]{{34}}{_E}"),                      # Postman
        (("dapi",), rf"{_B}dapi[a-f0-9]{{32}}(?:-\d)?{_E}"),                              # Databricks
        (("NRAK-",), rf"{_B}NRAK-[A-Z0-9]{{27}}{_E}"),                                     # New Relic
        (("sntrys_", "sntryu_"), rf"{_B}sntry[su]_[A-Za-z0-9_=+/]{{40,}}{_E}"),            # Sentry
        (("glsa_", "glc_"),                                                                # Grafana
         rf"{_B}(?:glsa_[A-Za-z0-9]{{32}}_[a-f0-9]{{8}}|glc_[A-Za-z0-9+/]{{32,}}={{0,2}})"),
        (("lin_api_",), rf"{_B}lin_api_[A-Za-z0-9]{{40}}{_E}"),                            # Linear
        (("dp.",), rf"{_B}dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{{40,44}}{_E}"),     # Doppler
        (("AGE-SECRET-KEY-",), r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
        (("pul-",), rf"{_B}pul-[a-f0-9]{{40}}{_E}"),                                       # Pulumi
        (("-us",), r"(?<![A-Za-z0-9])[0-9a-f]{32}-us\d{1,2}(?![A-Za-z0-9])"),             # Mailchimp
        (("Q~",), rf"{_B}[A-Za-z0-9_~.\-]{{3}}\dQ~[A-Za-z0-9_~.\-]{{31,34}}{_E}"),        # Azure AD
        (("eyJ",), rf"{_B}eyJ[A-Za-z0-9_\-]{{8,}}\.eyJ[A-Za-z0-9_\-]{{8,}}\."   # JWT
                   rf"(?:[A-Za-z0-9_\-]{{8,}}{_E})?"),
    ))

# Formats without a prefix of their own, looked for only when the text names their vendor.
_CONTEXTUAL: Final[tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]] = (
    (("iscord", "ISCORD"),                                                                # Discord bot
     re.compile(rf"{_B}[MNO][A-Za-z0-9_\-]{{23,27}}\.[A-Za-z0-9_\-]{{6}}\.[A-Za-z0-9_\-]{{27,40}}{_E}")),
)
# Each distinct vendor hint with the bit mask of the vendors it selects (bit i: _VENDOR[i]): one
# substring test per hint, and the vendors then run in declaration order.
_VENDOR_HINTS: Final[tuple[tuple[str, int], ...]] = tuple(
    {hint: sum(1 << i for i, (hints, _) in enumerate(_VENDOR) if hint in hints)
     for hints, _ in _VENDOR for hint in hints}.items())
# The same, grouped under each hint's rarest character: most groups cost one character search.
_VENDOR_KEYED: Final = KeyedLiterals(_VENDOR_HINTS)
# Every vendor token (and so its hint) sits in a run of token characters at least this long;
# checking the hints against those runs alone is much cheaper than against the whole text.
_CANDIDATE_RUN: Final = re.compile(r"[A-Za-z0-9_\-.+/=:~%]{16,}")
# A candidate run is sixteen run characters in a row; a substring search on the text's shape says
# whether there is one at all (prose rarely has any) far faster than the regex's scan.
_CANDIDATE_SHAPE: Final = RunShape(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.+/=:~%", 16)

_PEM: Final = re.compile(
    r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]{1,16000}?"
    r"-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----")

_AWS_KEY_ID: Final = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}")
_AWS_SECRET: Final = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_SECRET_NAME: Final = re.compile(
    r"(?:aws.?secret|secret.?access.?key|secretaccesskey|secret.?key)[\"']?\s*[:=]?\s*[\"']?\s*$")

# Matched on the lower-cased text (same offsets), which is much faster than IGNORECASE; the value
# is then read from the original text.
_ASSIGNMENT: Final = re.compile(
    r"(?:api[_\-.]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|access[_\-.]?key"
    r"|private[_\-.]?key|client[_\-.]?secret|auth[_\-.]?key|credential|bearer|signing[_\-.]?key"
    r"|webhook[_\-.]?key)[a-z0-9_.\-]*[\"']?\s*(?:=>|:=|=|:)\s*[\"'`]?"
    r"(?P<value>[a-z0-9_\-+/=.~!@#$%^&*]{12,256})")
_AUTH_HEADER: Final = re.compile(
    r"authorization\s*[:=]\s*[\"']?(?:bearer|basic|token)\s+(?P<value>[a-z0-9_\-+/=.~]{16,})")
_UUID: Final = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PLACEHOLDER: Final = re.compile(
    r"^(?:x+|\*+|\.+|<[^>]*>|\$\{?\w+\}?|%\w+%|\{\{.*\}\}|your[_\-].*|changeme.*|example.*"
    r"|redacted.*|none|null|true|false)$", re.IGNORECASE)
_SECRET_HINTS: Final = ("key", "secret", "token", "passw", "pwd", "credential", "bearer",
                        "authorization")


def shannon_entropy(value: str) -> float:
    """Bits of entropy per character of a string."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def looks_random(value: str) -> bool:
    """True for strings that look like generated secrets rather than words, ids or hashes."""
    if len(value) < 12 or _UUID.match(value) or _PLACEHOLDER.match(value):
        return False
    classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
               + any(c.isdigit() for c in value) + any(not c.isalnum() for c in value))
    if classes < 2:
        return False
    return shannon_entropy(value) >= (3.0 if len(value) < 20 else 3.5)


def _trim(value: str) -> str:
    # Sentence punctuation and closing quotes glued to a value are not part of it.
    return value.rstrip(".,;:!?)]}'\"`")


def find_secrets(text: str) -> list[Detection]:
    """API keys, tokens, private keys and secret assignments."""
    out: list[Detection] = []
    runs = " ".join(_CANDIDATE_RUN.findall(text)) if _CANDIDATE_SHAPE.has_run(text) else ""
    vendors: list[re.Pattern[str]] = []
    if runs:
        chosen = 0
        for mask in _VENDOR_KEYED.present(runs):
            chosen |= mask
        while chosen:
            low = chosen & -chosen
            chosen ^= low
            vendors.append(_VENDOR[low.bit_length() - 1][1])
    vendors.extend(pattern for hints, pattern in _CONTEXTUAL
                   if any(map(text.__contains__, hints)))
    for pattern in vendors:
        for m in pattern.finditer(text):
            value = m.group()
            if value.startswith("eyJ") and value.endswith("."):
                value = value[:-1]  # an unsigned JWT ends with its dot; a sentence's dot is not it
            out.append(Detection("API_SECRET", m.start(), m.start() + len(value), value))
    if "PRIVATE KEY-----" in text:
        out.extend(Detection("API_SECRET", m.start(), m.end(), m.group())
                   for m in _PEM.finditer(text))
    key_ids = [m.end() for m in _AWS_KEY_ID.finditer(text)] if "AKIA" in text or "ASIA" in text else []
    lower = text.lower()
    if len(lower) != len(text):
        return out  # a rare case-folding that changes lengths: offsets would not line up
    if key_ids or any(map(lower.__contains__, _SECRET_HINTS)):
        # An AWS secret needs its key id nearby or its name ("aws_secret...", "secret key").
        aws_secrets = _AWS_SECRET.finditer(text) if key_ids or "secret" in lower else ()
        for m in aws_secrets:
            value = m.group()
            if not looks_random(value):
                continue
            near_key_id = any(0 <= m.start() - end <= 80 for end in key_ids)
            named = _AWS_SECRET_NAME.search(lower, max(0, m.start() - 40), m.start())
            if near_key_id or named:
                out.append(Detection("API_SECRET", m.start(), m.end(), value))
        for pattern in (_ASSIGNMENT, _AUTH_HEADER):
            for m in pattern.finditer(lower):
                start = m.start("value")
                value = _trim(text[start:m.end("value")])
                if looks_random(value):
                    out.append(Detection("API_SECRET", start, start + len(value), value))
    return out
