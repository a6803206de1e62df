"""Prefilters make clean text cheaper to scan and never change what a scan finds."""

from __future__ import annotations

import random
import re

import pytest

from services.guardrail.scanning import decoders, executable, normalize, numbers, pii, secrets
from services.guardrail.scanning.prefilter import (
    KeyedLiterals,
    Literals,
    RunShape,
    ascii_table,
    ascii_translate,
    leftmost_runs,
    rarest_char,
)

# Pieces that meet the prefilters' edge cases: runs of ten and sixteen, padding, colons between
# hex digits, digits of other scripts, letters that change length when lower-cased.
_PIECES = (
    "a", "Z", "0", "9", "f", "E", " ", "\n", "\t", ":", "::", ".", "-", "_", "/", "+", "=", "==",
    "%", "~", "$", "?", "@", "[", "(", "{", "<", "'", '"', "\\", "at", " at ", " dot ", "-at-",
    "aGVsbG8gd29ybGQ", "0123456789abcdef", "fe80", "2001:db8::1", "10:30", "abcdefghij",
    "abcdefghijklmnop", "é", "٣", "５", "İ", "ı", "ſ", "\u212a", "—", "µ", "ssn", "tax", "key",
)


def ascii_proxy(text: str) -> str:
    """The specification of `ascii_translate`: every non-ASCII character replaced by `?`."""
    return text if text.isascii() else text.encode("ascii", "replace").decode("ascii")


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 120))) for _ in range(count)]


TEXTS = [
    *_texts(600, 7),
    "Summarise the quarterly logistics review for the operations team: inbound volume rose "
    "eleven percent, dock turnaround improved, and two carriers missed their service levels. ",
    "Meeting at 10:30: see fe80::1ff:fe23:4567:890a and PR #12 (tag v2.3.0).",
    "",
]


def test_rarest_char_prefers_punctuation_over_letters() -> None:
    assert rarest_char("[at") == "["
    assert rarest_char(" dot ") == "d"
    assert rarest_char("system>") == ">"


def test_literals_answer_as_a_scan_of_every_hint() -> None:
    hints = ("[at", "(@", " at ", " dot ", "-at -", "ssn", "tax", "::", "é")
    literals = Literals(hints)
    keyed = KeyedLiterals((h, i) for i, h in enumerate(hints))
    for text in TEXTS:
        assert literals.any_in(text) == any(h in text for h in hints)
        assert sorted(keyed.present(text)) == [i for i, h in enumerate(hints) if h in text]


def test_an_empty_literal_is_refused() -> None:
    with pytest.raises(ValueError, match="empty literal"):
        Literals(("",))


def test_the_ascii_proxy_keeps_offsets() -> None:
    for text in TEXTS:
        proxy = ascii_proxy(text)
        assert len(proxy) == len(text)
        assert proxy.isascii()
        assert all(p == t for p, t in zip(proxy, text, strict=True) if t.isascii())


def test_the_byte_translation_is_the_str_translation_of_the_proxy() -> None:
    mapping = str.maketrans({chr(i): "a" if chr(i).isalnum() else " " for i in range(128)})
    table = ascii_table(mapping)
    for text in TEXTS:
        assert ascii_translate(text, table) == ascii_proxy(text).translate(mapping)
        assert ascii_translate(text.lower(), table) == ascii_proxy(text.lower()).translate(mapping)


def test_a_byte_table_maps_ascii_to_single_ascii_characters() -> None:
    with pytest.raises(ValueError, match="one ASCII character"):
        ascii_table({ord("a"): "bc"})
    with pytest.raises(ValueError, match="one ASCII character"):
        ascii_table({ord("a"): "é"})


def test_runs_found_by_shape_are_the_regex_matches() -> None:
    runs = RunShape("abcdefghijABCDEF0123456789+/_-", 10)
    pattern = re.compile(r"[a-jA-F0-9+/_\-]{10,}={0,6}")
    for text in TEXTS:
        assert ([m.span() for m in leftmost_runs(pattern, runs, text)]
                == [m.span() for m in pattern.finditer(text)])
        assert runs.has_run(text) == (re.search(r"[a-jA-F0-9+/_\-]{10}", text) is not None)


def test_a_run_where_the_pattern_fails_hands_over_to_the_engine() -> None:
    # Not a pattern that matches wherever a run begins (`abc1`): the engine goes on from there.
    pattern = re.compile(r"[a-z]{3,}(?!\d)")
    text = "abc1 defg hij2 klmn"
    shape = RunShape("abcdefghijklmn", 3)
    assert ([m.span() for m in leftmost_runs(pattern, shape, text)]
            == [m.span() for m in pattern.finditer(text)])


def test_encoded_runs_are_those_of_the_plain_scan() -> None:
    for text in TEXTS:
        assert ([m.span() for m in leftmost_runs(decoders._RUN, decoders._RUN_SHAPE, text)]
                == [m.span() for m in decoders._RUN.finditer(text)])


def test_secret_candidate_runs_exist_exactly_when_the_shape_says() -> None:
    for text in TEXTS:
        assert secrets._CANDIDATE_SHAPE.has_run(text) == bool(secrets._CANDIDATE_RUN.findall(text))


def test_no_ipv6_candidate_escapes_the_colon_check() -> None:
    for text in TEXTS:
        if pii._IPV6_CANDIDATE.search(text):
            assert pii._may_hold_ipv6(text)


def test_digit_clusters_are_those_of_the_regex() -> None:
    for text in TEXTS:
        assert numbers.digit_clusters(text) == [
            m.span() for m in numbers._CLUSTER.finditer(text) if m.end() - m.start() >= 2]


def test_gate_tokens_are_the_regex_tokens() -> None:
    for text in TEXTS:
        gate = executable._Gate(text)
        assert gate.tokens == frozenset(re.findall(r"[a-z0-9_$]+", text.lower()))


def test_rule_selection_is_that_of_testing_every_substring() -> None:
    for text in TEXTS:
        gate = executable._Gate(text)
        for rules in (executable._NON_PROMPT, executable._PROMPT, executable._SQL):
            expected = []
            for i, rule in enumerate(rules.rules):
                hinted = (bool(rule.words & gate.tokens)
                          or any(s in gate.lower for s in rule.substrings))
                required = all(bool(words & gate.tokens) or any(s in gate.lower for s in subs)
                               for words, subs in rule.requires)
                if hinted and required:
                    expected.append(i)
            assert [rules.rules.index(r) for r in rules.select(gate)] == expected


def test_a_fork_bomb_always_pipes_so_text_without_a_pipe_skips_the_rule() -> None:
    rule = next(r for r in executable.NON_PROMPT_RULES if r.name == "fork_bomb")
    for bomb in (":(){ :|:& };:", "bomb() { bomb | bomb & }; bomb", "%0|%0"):
        assert [m.group() for m in rule.pattern.finditer(bomb)]
        assert all("|" in m.group() for m in rule.pattern.finditer(bomb))
    assert rule not in executable._NON_PROMPT.select(executable._Gate('{"a": 1} bomb() {}'))


def test_spaced_letters_and_leet_runs_are_those_of_their_patterns() -> None:
    rng = random.Random(5)
    pieces = (*"aAbZ 0135789$._-*\n'é?", "i g n o r e", "I.G.N.O.R.E", "1gn0r3", "3rd", "$ystem",
              "x y", "٣", "\u0130")
    texts = [*TEXTS, *("".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
                       for _ in range(3000))]
    for text in texts:
        assert ([m.span() for m in normalize._spaced_letters(text)]
                == [m.span() for m in normalize._SPACED_LETTERS.finditer(text)])
        assert ([m.span() for m in normalize._leet_runs(text)]
                == [m.span() for m in normalize._LEET_TOKEN.finditer(text)])
