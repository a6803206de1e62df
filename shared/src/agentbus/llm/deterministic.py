"""The built-in offline backend: plausible, structured, repeatable replies derived from the prompt.

The same request always yields the same reply (everything is seeded by a SHA-256 of the request),
different requests yield different replies, and the words come from the request itself, so a demo
saga reads sensibly without any model or network.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentbus.llm.tokens import CHARS_PER_TOKEN, estimate_tokens
from agentbus.llm.types import Completion, CompletionRequest, Usage

MODEL = "agentbus-deterministic-1"
APPROVE = "APPROVE"
REQUEST_CHANGES = "REQUEST_CHANGES"
DEFAULT_JSON_KEYS = ("title", "summary", "points")

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_'-]*|[^\sA-Za-z]")
_MAX_PHRASE_WORDS = 3
_PADDING = ("the status quo", "everyday practice")
_STOPWORDS_TEXT = """
    a about above after again against all also an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more most my
    no nor not now of off on once only or other our ours out over own same she should so some such
    than that the their theirs them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    please write return reply answer respond json object keys key following given provide using use
    include task agent output input text make create based one two three must may shall into
    each every via per etc like want need needs step action prompt system user assistant
    research topic article essay post blog piece draft review reviews summarise summarize edit
    publish title summary notes code diff patch change changes file files please thanks
    def return class import self none true false lambda print elif else try except pass raise
    async await yield global const let var function
"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

# Words a reviewer flags; each maps to the advice a careful human would give.
_FLAGS: dict[str, str] = {
    "eval": "Replace `eval` with an explicit parser: it runs arbitrary code.",
    "exec": "Avoid `exec`; call the intended function directly.",
    "password": "Do not hard-code the password; read it from the environment or a secret store.",
    "secret": "Keep the secret out of the source; inject it from the environment.",
    "todo": "Resolve the TODO before merging, or link it to a tracked issue.",
    "fixme": "Resolve the FIXME before merging, or link it to a tracked issue.",
    "sleep": "Replace the fixed `sleep` with waiting on an event with a timeout.",
    "md5": "Use SHA-256 (or a password hash such as scrypt) instead of MD5.",
    "sha1": "Use SHA-256 instead of SHA-1.",
    "pickle": "Do not unpickle untrusted data; use JSON or protobuf.",
    "shell=true": "Pass an argument list instead of `shell=True`.",
}
_FLAG_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(f) for f in _FLAGS) + r")(?![A-Za-z0-9_])",
    re.IGNORECASE,
)

_TITLES = (
    "{TA}: What Matters and Why",
    "Understanding {TA} and {TB}",
    "A Practical Guide to {TA}",
    "{TA}, {TB} and {TC}: An Overview",
    "Notes on {TA} in Practice",
    "How {TA} Shapes {TB}",
)
_SENTENCES = (
    "{A} is the core of the question and needs a precise definition.",
    "The evidence on {a} is fairly consistent; {b} is where it gets contested.",
    "Practitioners weigh {a} against {b} before committing to either.",
    "A concrete example of {a} makes the argument easier to follow.",
    "{A} has measurable costs, so quantify them before recommending anything.",
    "The open question is how {a} changes as {b} grows.",
    "Recent work links {a} to {b}, although the samples are still small.",
    "Readers new to {a} will need one sentence of background first.",
    "Comparing {a} with {c} shows where the trade-offs really lie.",
    "{A} is easy to overstate; the careful claim is narrower.",
)
_SUMMARIES = (
    "An overview of {a}, {b} and {c}: what {a} is, why {b} matters, and what is still open.",
    "This piece explains {a}, relates it to {b}, and closes with practical advice on {c}.",
    "{A} in brief: the key facts, the trade-offs against {b}, and where {c} fits in.",
)
_APPROVALS = (
    "The changes around {a} and {b} are clear, consistent and covered; approving.",
    "Handling of {a} looks correct and {b} reads well; nothing blocks a merge.",
)
_OUTLINE = ("Introduction to {a}", "Why {b} matters", "{A} and {c} compared",
            "Practical advice on {b}", "Open questions about {c}", "Conclusion")
_QUESTIONS = ("What limits {a} in practice?", "How does {b} interact with {a}?",
              "Which evidence on {c} is strongest?", "What would change the picture for {b}?")


@dataclass(frozen=True, slots=True)
class _Context:
    """What one request contributes: its seed, its words, and the verdict a reviewer would give."""

    seed: str
    topics: tuple[str, ...]
    keywords: tuple[str, ...]
    flags: tuple[str, ...]
    verdict: str
    title: str

    def rng(self, salt: str) -> random.Random:
        # A string seed is hashed with SHA-512 by `random`, independent of PYTHONHASHSEED.
        return random.Random(f"{self.seed}:{salt}")

    def fill(self, pattern: str, offset: int = 0) -> str:
        words = self.keywords
        picks = [words[(offset + i) % len(words)] for i in range(3)]
        return pattern.format(
            a=picks[0], b=picks[1], c=picks[2],
            A=_sentence_case(picks[0]), B=_sentence_case(picks[1]), C=_sentence_case(picks[2]),
            TA=_title_word(picks[0]), TB=_title_word(picks[1]), TC=_title_word(picks[2]),
        )


def _title_word(word: str) -> str:
    return " ".join(part[:1].upper() + part[1:] for part in word.replace("_", " ").split())


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "item"


def _seed(request: CompletionRequest) -> str:
    canonical = json.dumps(
        {
            "system": request.system,
            "messages": [[m.role, m.content] for m in request.messages],
            "keys": list(request.expected_keys),
            "json": request.wants_json,
        },
        sort_keys=True, ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _phrases(text: str) -> list[str]:
    """Runs of consecutive content words ("quantum computing"), split at stopwords and punctuation."""
    phrases: list[str] = []
    run: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        word = token.strip("'-")
        if not word[:1].isalpha() or word.lower() in _STOPWORDS or len(word) < 2:
            if run:
                phrases.append(" ".join(run))
            run = []
            continue
        # Keep acronyms (AI, SQL) as written; everything else lower case reads better mid-sentence.
        run.append(word if word.isupper() else word.lower())
        if len(run) == _MAX_PHRASE_WORDS:
            phrases.append(" ".join(run))
            run = []
    if run:
        phrases.append(" ".join(run))
    return phrases


def _keywords(text: str, limit: int = 5) -> tuple[str, ...]:
    phrases = _phrases(text)
    counts = Counter(phrases)
    first_seen = {p: i for i, p in reversed(list(enumerate(phrases)))}
    ranked = sorted(counts, key=lambda p: (-counts[p], first_seen[p]))[:limit]
    # The head noun of each multi-word phrase gives sentences a second, shorter way to refer to it.
    heads = [p.rsplit(" ", 1)[-1] for p in ranked if " " in p]
    return tuple(dict.fromkeys([*ranked, *heads]))[: max(limit, 3)]


def _context(request: CompletionRequest) -> _Context:
    # The task lives in the messages; the system prompt is the same for every call of an agent.
    task = "\n".join(m.content for m in request.messages if m.role == "user") or request.prompt_text()
    seed = _seed(request)
    topics = _keywords(task)
    # Sentences name up to three things; pad short inputs so none reads "AI against AI".
    keywords = (*topics, *(p for p in _PADDING if p not in topics))[: max(3, len(topics))] \
        if topics else ("the subject", *_PADDING)
    flags = tuple(dict.fromkeys(m.group(1).lower() for m in _FLAG_PATTERN.finditer(task)))
    rng = random.Random(f"{seed}:verdict")
    verdict = REQUEST_CHANGES if flags or rng.random() < 0.2 else APPROVE
    partial = _Context(seed, topics, keywords, flags, verdict, "")
    # A title naming a phrase twice reads badly: only use patterns the distinct phrases can fill.
    distinct = len(set(_phrases(task)))
    fitting = [t for t in _TITLES if ("{TC}" not in t or distinct >= 3)
               and ("{TB}" not in t or distinct >= 2)]
    title = partial.fill(partial.rng("title").choice(fitting))
    return _Context(seed, topics, keywords, flags, verdict, title)


def _sentences(ctx: _Context, salt: str, count: int) -> list[str]:
    rng = ctx.rng(salt)
    patterns = rng.sample(_SENTENCES, k=min(count, len(_SENTENCES)))
    return [ctx.fill(p, offset=i) for i, p in enumerate(patterns)]


def _points(ctx: _Context, key: str) -> list[str]:
    advice = [_FLAGS[f] for f in ctx.flags]
    count = ctx.rng(key + ":n").randint(3, 5)
    return (advice + _sentences(ctx, key, count))[: max(count, len(advice))]


def _body(ctx: _Context, key: str) -> str:
    paragraphs = [" ".join(_sentences(ctx, f"{key}:{i}", 3)) for i in range(3)]
    paragraphs.append(ctx.fill("In short, {a} rewards careful attention to {b}."))
    return "\n\n".join(paragraphs)


def _rationale(ctx: _Context, key: str) -> str:
    if ctx.verdict == REQUEST_CHANGES:
        if ctx.flags:
            return "Changes requested: " + " ".join(_FLAGS[f] for f in ctx.flags)
        return ctx.fill("Changes requested: the handling of {a} needs a test and a clearer "
                        "explanation of how it interacts with {b}.")
    return ctx.fill(ctx.rng(key).choice(_APPROVALS))


_LIST_WORDS = frozenset((
    "bullets", "points", "notes", "findings", "comments", "issues", "items", "suggestions",
    "risks", "changes", "highlights", "takeaways", "recommendations", "claims", "facts",
))
_FILLERS: tuple[tuple[frozenset[str], Callable[[_Context, str], Any]], ...] = (
    (frozenset({"verdict", "decision", "recommendation"}), lambda c, k: c.verdict),
    (frozenset({"approved", "approve", "passed", "ok", "accepted"}),
     lambda c, k: c.verdict == APPROVE),
    (frozenset({"score", "confidence", "probability", "quality"}),
     lambda c, k: round(0.6 + 0.38 * c.rng(k).random(), 2)),
    (frozenset({"rating"}), lambda c, k: c.rng(k).randint(3, 5)),
    (frozenset({"count", "number", "total"}), lambda c, k: c.rng(k).randint(3, 12)),
    (frozenset({"title", "headline", "heading", "subject", "name"}), lambda c, k: c.title),
    (frozenset({"summary", "abstract", "overview", "description", "synopsis", "tldr", "lede"}),
     lambda c, k: c.fill(c.rng(k).choice(_SUMMARIES))),
    (frozenset({"tags", "keywords", "topics", "labels", "categories"}),
     lambda c, k: list(c.topics)),
    (frozenset({"sources", "references", "citations"}),
     lambda c, k: [f"Survey of {_title_word(w)} ({2018 + c.rng(k + w).randint(0, 6)}), "
                   f"https://example.org/{_slug(w)}" for w in c.keywords[:3]]),
    (frozenset({"outline", "sections", "steps", "plan"}),
     lambda c, k: [c.fill(p) for p in _OUTLINE]),
    (frozenset({"questions"}), lambda c, k: [c.fill(q) for q in _QUESTIONS]),
    (frozenset({"reason", "rationale", "explanation", "justification", "feedback"}), _rationale),
    (frozenset({"severity", "priority", "risk", "level"}),
     lambda c, k: "high" if c.flags else c.rng(k).choice(("low", "medium"))),
    (frozenset({"url", "link", "uri", "permalink"}),
     lambda c, k: f"https://example.com/posts/{_slug(c.title)}"),
    (frozenset({"slug", "id", "identifier"}),
     lambda c, k: f"{_slug(c.title)[:40]}-{c.seed[:6]}"),
    (frozenset({"language", "lang", "locale"}), lambda c, k: "en"),
    (frozenset({"body", "draft", "text", "content", "article", "post", "markdown", "report",
                "answer", "response"}), _body),
    (_LIST_WORDS, _points),
)


def _value_for(ctx: _Context, key: str) -> Any:
    parts = [p for p in re.split(r"[_\W]+", key.lower()) if p]
    for names, fill in _FILLERS:
        if names.intersection(parts):
            return fill(ctx, key)
    last = parts[-1] if parts else key
    if last.endswith("s") and not last.endswith(("ss", "us", "is")):
        return _points(ctx, key)
    return ctx.fill(ctx.rng(key).choice(_SENTENCES))


def _truncate(text: str, max_tokens: int | None) -> tuple[str, str]:
    if max_tokens is None or len(text) <= max_tokens * CHARS_PER_TOKEN:
        return text, "stop"
    cut = text[: max_tokens * CHARS_PER_TOKEN].rsplit(" ", 1)[0]
    return cut, "length"


class DeterministicBackend:
    """An offline backend whose replies are a pure function of the request."""

    name = "deterministic"

    def __init__(self, *, model: str = MODEL) -> None:
        self.model = model

    def reply(self, request: CompletionRequest) -> Completion:
        """Compute the reply synchronously (`complete` is the async face of this)."""
        ctx = _context(request)
        data: dict[str, Any] | None = None
        finish = "stop"
        if request.wants_json:
            keys = request.expected_keys or DEFAULT_JSON_KEYS
            data = {key: _value_for(ctx, key) for key in keys}
            text = json.dumps(data, ensure_ascii=False)
        else:
            text, finish = _truncate(_body(ctx, "text"), request.max_tokens)
        usage = Usage(
            prompt_tokens=estimate_tokens(request.prompt_text()),
            completion_tokens=estimate_tokens(text),
        )
        return Completion(text=text, usage=usage, model=self.model, backend=self.name,
                          data=data, finish_reason=finish)

    async def complete(self, request: CompletionRequest) -> Completion:
        """Return the deterministic reply to `request`."""
        return self.reply(request)

    async def aclose(self) -> None:
        """Nothing to release."""
