"""`agentbus guard eval`: score the guardrail on a labelled corpus (shared/guardrail/README.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from agentbus.errors import AgentBusError

if TYPE_CHECKING:
    from services.guardrail.evaluation import Span

DESCRIPTION = """\
Run the guardrail's detectors on every record of a labelled JSONL corpus (reading only `id` and
`text`) and score the predictions as shared/guardrail/README.md defines: per-type precision,
recall and F1 of PII spans (a match covers at least half of the gold span), micro-averaged PII
F1, executable precision/recall/F1 per record, and the hard-negative false-positive rate (share
of `neg.*` records with any PII span or executable=true). Policies do not apply: every detection
counts.

examples:
  agentbus guard eval ../shared/guardrail/dev.jsonl
  agentbus guard eval dev.jsonl --predictions predictions.jsonl --errors 20"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `guard eval`."""
    parser.description = DESCRIPTION
    parser.add_argument("corpus", type=Path, metavar="FILE.jsonl",
                        help="labelled corpus, one {id, text, pii, executable, family} per line")
    parser.add_argument("--predictions", type=Path, metavar="OUT",
                        help='also write one {"id", "pii": [...], "executable"} line per record')
    parser.add_argument("--json", action="store_true",
                        help="print the scores as one JSON object")
    parser.add_argument("--errors", type=int, default=0, metavar="N",
                        help="list up to N mistakes (record id, what was wrong, family)")


def predict_text(text: str) -> tuple[Iterable[Span], bool]:
    """The guardrail's prediction for one text: PII spans and whether it is executable."""
    from services.guardrail.evaluation import Span
    from services.guardrail.scanning.detector import detect

    detections = detect(text)
    spans = [Span(d.type, d.start, d.end) for d in detections if d.category == "pii"]
    return spans, any(d.category == "executable" for d in detections)


def run(args: argparse.Namespace) -> int:
    """Score the corpus and print the report."""
    from services.guardrail.evaluation import (
        format_report,
        load_corpus,
        predict,
        score,
        write_predictions,
    )

    try:
        records = load_corpus(args.corpus)
        predictions = predict(records, predict_text)
        if args.predictions is not None:
            write_predictions(args.predictions, predictions)
    except (AgentBusError, OSError) as exc:
        print(f"agentbus guard eval: {exc}", file=sys.stderr)
        return 2
    report = score(records, {p.id: p for p in predictions})
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(format_report(report))
    if args.errors > 0 and report.errors:
        print(f"\nmistakes (first {args.errors} of {len(report.errors)}):", file=sys.stderr)
        for kind, record_id, detail in report.errors[: args.errors]:
            print(f"  {kind:<12}{record_id:<14}{detail}", file=sys.stderr)
    return 0
