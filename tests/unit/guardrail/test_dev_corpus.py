"""Regression guard: the detectors must keep their quality targets on the shared dev corpus.

Targets (issue): PII micro F1 >= 0.97, executable F1 >= 0.95, hard-negative FPR <= 2%. Speed is
measured by `agentbus bench guard`, not here.
"""

from __future__ import annotations

import pytest

from services.guardrail.commands.common import default_corpus
from services.guardrail.commands.evaluate import predict_text
from services.guardrail.evaluation import format_report, load_corpus, predict, score


def test_dev_corpus_meets_the_targets() -> None:
    path = default_corpus()
    if not path.is_file():
        pytest.fail(f"dev corpus not found at {path}; it lives in ../shared/guardrail/ next to "
                    "the repository")
    records = load_corpus(path)
    report = score(records, {p.id: p for p in predict(records, predict_text)})
    table = format_report(report)
    assert report.pii_micro.f1 >= 0.97, table
    assert report.executable.f1 >= 0.95, table
    assert report.hard_negative_fpr <= 0.02, table
