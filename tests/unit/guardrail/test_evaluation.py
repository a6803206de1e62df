"""The corpus scorer follows the README: 50% overlap, one-to-one, fragments ignored, hard negatives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.guardrail.evaluation import (
    CorpusError,
    Counts,
    Prediction,
    Record,
    Span,
    load_corpus,
    load_predictions,
    score,
    score_spans,
    write_predictions,
)


def test_half_overlap_of_the_gold_span_is_a_match() -> None:
    counts, missed, false_pos = score_spans([Span("EMAIL", 10, 20)], [Span("EMAIL", 15, 40)])
    assert (counts.tp, counts.fp, counts.fn) == (1, 0, 0)
    assert missed == []
    assert false_pos == []


def test_less_than_half_is_a_miss_and_a_false_positive() -> None:
    counts, missed, false_pos = score_spans([Span("EMAIL", 10, 20)], [Span("EMAIL", 16, 40)])
    assert (counts.tp, counts.fp, counts.fn) == (0, 1, 1)
    assert missed == [Span("EMAIL", 10, 20)]
    assert false_pos == [Span("EMAIL", 16, 40)]


def test_fragments_and_duplicates_of_a_matched_span_are_ignored() -> None:
    gold = [Span("CREDIT_CARD", 0, 19)]
    predicted = [Span("CREDIT_CARD", 0, 10), Span("CREDIT_CARD", 0, 19), Span("CREDIT_CARD", 15, 19)]
    counts, _, _ = score_spans(gold, predicted)
    assert (counts.tp, counts.fp, counts.fn) == (1, 0, 0)


def test_matching_is_one_to_one_and_prefers_the_larger_overlap() -> None:
    gold = [Span("API_SECRET", 0, 10), Span("API_SECRET", 12, 22)]
    predicted = [Span("API_SECRET", 0, 22)]
    counts, _, _ = score_spans(gold, predicted)
    assert (counts.tp, counts.fp, counts.fn) == (1, 0, 1)


def test_score_per_type_micro_executable_and_hard_negatives() -> None:
    records = [
        Record("a", "x", (Span("EMAIL", 0, 5), Span("PHONE", 10, 20)), False, None, "pii.multi.x"),
        Record("b", "y", (), True, "shell", "exec.shell.x"),
        Record("c", "z", (), False, None, "neg.uuid"),
        Record("d", "w", (), False, None, "neg.version_string"),
        Record("e", "v", (), True, "python", "exec.python.x"),
    ]
    predictions = {
        "a": Prediction("a", (Span("EMAIL", 0, 5), Span("PHONE", 30, 40), Span("PERSON", 0, 3))),
        "b": Prediction("b", (), True),
        "c": Prediction("c", (Span("IP_ADDRESS", 0, 3),), False),
        "d": Prediction("d", (), True),
        # "e" is missing: an empty prediction
    }
    report = score(records, predictions)
    assert (report.per_type["EMAIL"].tp, report.per_type["EMAIL"].fp) == (1, 0)
    phone = report.per_type["PHONE"]
    assert (phone.tp, phone.fp, phone.fn) == (0, 1, 1)
    ip = report.per_type["IP_ADDRESS"]
    assert (ip.tp, ip.fp, ip.fn) == (0, 1, 0)
    micro = report.pii_micro
    assert (micro.tp, micro.fp, micro.fn) == (1, 2, 1)
    assert (report.executable.tp, report.executable.fp, report.executable.fn) == (1, 1, 1)
    assert (report.hard_negatives, report.hard_negative_flagged) == (2, 2)
    assert report.hard_negative_fpr == 1.0
    assert report.as_dict()["pii_micro"]["f1"] == pytest.approx(0.4)


def test_counts_ratios() -> None:
    counts = Counts(tp=3, fp=1, fn=2)
    assert counts.precision == 0.75
    assert counts.recall == 0.6
    assert counts.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert Counts().f1 == 1.0


def test_corpus_and_prediction_files_round_trip(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "r1", "text": "hi", "pii": [{"type": "EMAIL", "start": 0,
                                                                   "end": 2}],
                                  "executable": False, "exec_kind": None, "family": "pii.x"})
                      + "\n\n", encoding="utf-8")
    records = load_corpus(corpus)
    assert records == [Record("r1", "hi", (Span("EMAIL", 0, 2),), False, None, "pii.x")]
    out = tmp_path / "p.jsonl"
    write_predictions(out, [Prediction("r1", (Span("EMAIL", 0, 2),), True)])
    assert json.loads(out.read_text()) == {"id": "r1", "pii": [{"type": "EMAIL", "start": 0,
                                                                 "end": 2}], "executable": True}
    assert load_predictions(out) == {"r1": Prediction("r1", (Span("EMAIL", 0, 2),), True)}


@pytest.mark.parametrize(("content", "message"), [
    ("not json\n", "not JSON"),
    ('{"text": "no id"}\n', "expected an object with an 'id'"),
    ('{"id": 1, "text": 5}\n', "'text' must be a string"),
    ('{"id": 1, "text": "x", "pii": [{"type": "EMAIL"}]}\n', "bad PII span"),
])
def test_bad_corpus_lines_are_reported_with_their_line(
        tmp_path: Path, content: str, message: str) -> None:
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=message):
        load_corpus(corpus)


def test_missing_corpus_file() -> None:
    with pytest.raises(CorpusError, match="cannot read"):
        load_corpus("/nonexistent/corpus.jsonl")
