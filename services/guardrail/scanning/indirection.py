"""Decode-then-execute: a payload kept encoded until the moment it runs, whatever it decodes to.

The decoded text may be anything (the decoders in `decoders.py` scan what they can read), but the
shape alone is the payload: `eval "$(echo $P | base64 -d)"`, `bash -c "$(... | xxd -r -p)"`,
`base64 -d | gunzip | sh`, `[ScriptBlock]::Create(...FromBase64String...)`, PHP's
`eval(gzinflate(base64_decode(...)))`, `new Function(atob(...))`, Perl's `eval(pack("H*", ...))`.
Decoding to a file or to the screen (`base64 -d in.b64 > out.bin`) runs nothing.
"""

from __future__ import annotations

from typing import Final

from services.guardrail.scanning.rules import rule

_DECODER: Final = (
    r"(?:\bbase64\s+(?:-\w+\s+)*(?:-d|--decode|-D)\b|\bxxd\s+(?:-\w+\s+)*-r|\bopenssl\s+(?:base64|enc)\b"
    r"[^\n|)]*\s-d\b|\b(?:gunzip|zcat|bunzip2|bzcat|xzcat|unxz|uudecode)\b|\b(?:gzip|bzip2|xz)\s+-d"
    r"|\bprintf\s+[\"']?(?:\\\\x|\\x|%b)|\brev\b|\btr\s+[\"']?(?:a-z|A-Z|n-z|N-Z|\[a-z))")
_SHELL: Final = r"(?:sudo\s+)?(?:/usr)?(?:/bin/)?(?:ba|z|da|k)?sh\b"
_FILTER: Final = (r"(?:gunzip|gzip\s+-d\w*|zcat|bunzip2|bzip2\s+-d\w*|bzcat|xz\s+-d\w*|unxz|xzcat|rev"
                  r"|tr\s+[^\n|]{1,40}|base64\s+(?:-d|--decode|-D)|xxd\s+-r\S*(?:\s+-p)?)")

RULES: Final = (
    rule("decode_substitution_exec", "encoded",
         # The shell runs what a decoder prints: eval "$(...)", bash -c "$(...)", sh <(...), source <(...)
         rf"(?:\beval|\b{_SHELL}\s+-c|\bsource|\b(?:ba|z)?sh)\s+[\"']?(?:\$\(|`|<\()"
         rf"[^\n]{{0,600}}?{_DECODER}",
         ("eval", "sh", "bash", "zsh", "dash", "ksh", "source"),
         requires=(("$(", "`", "<("),
                   ("base64", "xxd", "openssl", "gunzip", "zcat", "bunzip2", "bzcat", "xzcat", "unxz",
                    "uudecode", "gzip", "bzip2", "xz", "printf", "rev", "tr"))),
    rule("decode_chain_shell", "encoded",
         # base64 -d | gunzip | sh: decoded, decompressed, run.
         r"\b(?:base64\s+(?:-\w+\s+)*(?:-d|--decode|-D)|xxd\s+-r\S*(?:\s+-p)?|openssl\s+(?:base64|enc)\b"
         rf"[^\n|]*\s-d|uudecode)\b[^\n|]{{0,40}}(?:\|\s*{_FILTER}[^\n|]{{0,20}}){{1,4}}\|\s*"
         rf"(?:{_SHELL}|python[23]?|perl|ruby|php|node)\b"
         # rot13 through tr, or reversed text, run by a shell.
         r"|\b(?:tr\s+[\"']?[a-zA-Z\-\[\]]+[\"']?\s+[\"']?(?:n-za-m|N-ZA-M)[^\n|]*|rev\s*)\|\s*"
         rf"(?:{_SHELL}|python[23]?|perl|ruby|php|node)\b",
         ("base64", "xxd", "openssl", "uudecode", "tr", "rev")),
    rule("decode_exec_languages", "encoded",
         r"\bfrombase64string\b[^\n]{0,300}?(?:\|\s*(?:iex|invoke-expression)\b|\biex\b"
         r"|\binvoke-expression\b|\[scriptblock\]\s*::\s*create|\.invoke\s*\(\s*\))"
         r"|\b(?:iex|invoke-expression)\b[^\n]{0,300}?\bfrombase64string\b"
         r"|\[scriptblock\]\s*::\s*create\s*\([^\n]{0,300}?(?:frombase64string|downloadstring|getstring)"
         r"|\b(?:eval|assert|system|exec|passthru|shell_exec|create_function)\s*\(\s*(?:@?\s*)"
         r"(?:gzinflate|gzuncompress|gzdecode|str_rot13|base64_decode|hex2bin|convert_uudecode)\s*\("
         r"|\bnew\s+Function\s*\(\s*(?:atob|unescape|decodeURIComponent)\s*\("
         r"|\bFunction\s*\(\s*atob\s*\([^)]*\)\s*\)\s*\("
         r"|\beval\s*\(?\s*(?:decode_base64|pack\s*\(\s*[\"']H\*|Base64\s*\.\s*decode64|unpack\s*\()",
         ("frombase64string", "iex", "invoke", "scriptblock", "eval", "assert", "system", "exec",
          "passthru", "shell_exec", "create_function", "function"),
         requires=(("frombase64string", "gzinflate", "gzuncompress", "gzdecode", "str_rot13",
                    "base64_decode", "hex2bin", "convert_uudecode", "atob", "unescape",
                    "decodeuricomponent", "decode_base64", "pack", "decode64", "unpack"),)),
)
