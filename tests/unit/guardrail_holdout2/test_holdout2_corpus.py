"""The second held-out corpus is reproducible and the guardrail, scored through its CLI, clears the bar."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.guardrail.evaluation import format_report, load_corpus, load_predictions, score

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "tests" / "data" / "guardrail" / "holdout2.jsonl"
GENERATOR = ROOT / "scripts" / "make_holdout2_corpus.py"
CLI = Path(sys.executable).with_name("agentbus")


def test_committed_corpus_equals_generator_output(tmp_path: Path) -> None:
    out = tmp_path / "holdout2.jsonl"
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True, timeout=60)
    assert out.read_bytes() == CORPUS.read_bytes(), "rerun scripts/make_holdout2_corpus.py and commit"


@pytest.fixture(scope="module")
def report_text_and_scores(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, float]]:
    predictions = tmp_path_factory.mktemp("h2") / "predictions.jsonl"
    # Predictions come from the same entry point customers use, not from importing the detectors.
    subprocess.run([str(CLI), "guard", "eval", str(CORPUS), "--predictions", str(predictions)],
                   check=True, timeout=90, capture_output=True)
    report = score(load_corpus(CORPUS), load_predictions(predictions))
    assert report.records == 800
    assert report.hard_negatives >= 250
    scores = {"pii_f1": report.pii_micro.f1, "exec_f1": report.executable.f1,
              "neg_fpr": report.hard_negative_fpr}
    return format_report(report), scores


def test_pii_micro_f1(report_text_and_scores: tuple[str, dict[str, float]]) -> None:
    text, scores = report_text_and_scores
    assert scores["pii_f1"] >= 0.97, text


def test_executable_f1(report_text_and_scores: tuple[str, dict[str, float]]) -> None:
    text, scores = report_text_and_scores
    assert scores["exec_f1"] >= 0.95, text


def test_hard_negative_fpr(report_text_and_scores: tuple[str, dict[str, float]]) -> None:
    text, scores = report_text_and_scores
    assert scores["neg_fpr"] <= 0.02, text
