"""Score guardrail predictions against a labelled corpus, following shared/guardrail/README.md.

PII spans are scored per type: a prediction is a true positive when its type matches and it covers
at least half of a gold span (one-to-one). An unmatched prediction that overlaps a matched gold span
of the same type is a fragment and ignored; any other unmatched prediction is a false positive.
`executable` is scored per record. The hard-negative false-positive rate is the share of `neg.*`
records where the prediction has any PII span or says executable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from agentbus.errors import ConfigurationError
from services.guardrail.scanning.types import PII_TYPES


class CorpusError(ConfigurationError):
    """A corpus or prediction file cannot be read; fix the file named in the message."""


class Span(NamedTuple):
    """A typed half-open span of code points."""

    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Record:
    """One labelled message of a corpus."""

    id: str
    text: str
    pii: tuple[Span, ...] = ()
    executable: bool = False
    exec_kind: str | None = None
    family: str = ""


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a guardrail said about one message."""

    id: str
    pii: tuple[Span, ...] = ()
    executable: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The README's prediction-file line."""
        return {"id": self.id,
                "pii": [{"type": s.type, "start": s.start, "end": s.end} for s in self.pii],
                "executable": self.executable}


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives, with the usual ratios."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Counts) -> None:
        """Accumulate another set of counts into this one."""
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def as_dict(self) -> dict[str, float | int]:
        """A JSON-friendly view."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass(slots=True)
class Report:
    """Scores of one corpus."""

    records: int = 0
    per_type: dict[str, Counts] = field(
        default_factory=lambda: {t: Counts() for t in PII_TYPES})
    executable: Counts = field(default_factory=Counts)
    hard_negatives: int = 0
    hard_negative_flagged: int = 0
    # Record ids per error, to analyse mistakes: ("pii_fp", id, type, start, end) and so on.
    errors: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def pii_micro(self) -> Counts:
        """Counts summed over every PII type."""
        total = Counts()
        for counts in self.per_type.values():
            total.add(counts)
        return total

    @property
    def hard_negative_fpr(self) -> float:
        """Share of neg.* records with any PII span or executable=true."""
        return self.hard_negative_flagged / self.hard_negatives if self.hard_negatives else 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (without the error list)."""
        return {
            "records": self.records,
            "pii": {t: c.as_dict() for t, c in self.per_type.items()},
            "pii_micro": self.pii_micro.as_dict(),
            "executable": self.executable.as_dict(),
            "hard_negatives": self.hard_negatives,
            "hard_negative_flagged": self.hard_negative_flagged,
            "hard_negative_fpr": round(self.hard_negative_fpr, 4),
        }


def _spans(raw: object, where: str) -> tuple[Span, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise CorpusError(f"{where}: 'pii' must be a list of {{type, start, end}} objects")
    spans = []
    for item in raw:
        try:
            spans.append(Span(str(item["type"]), int(item["start"]), int(item["end"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise CorpusError(f"{where}: bad PII span {item!r}: needs type, start, end") from exc
    return tuple(spans)


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(data, dict) or "id" not in data:
                raise CorpusError(f"{path}:{number}: expected an object with an 'id'")
            yield number, data


def load_corpus(path: str | Path) -> list[Record]:
    """Read a labelled JSONL corpus (README format)."""
    path = Path(path)
    records = []
    for number, data in _json_lines(path):
        if not isinstance(data.get("text"), str):
            raise CorpusError(f"{path}:{number}: 'text' must be a string")
        records.append(Record(
            id=str(data["id"]), text=data["text"], pii=_spans(data.get("pii"), f"{path}:{number}"),
            executable=bool(data.get("executable", False)), exec_kind=data.get("exec_kind"),
            family=str(data.get("family") or "")))
    return records


def load_predictions(path: str | Path) -> dict[str, Prediction]:
    """Read a prediction file (one `{"id", "pii", "executable"}` per line)."""
    path = Path(path)
    return {str(data["id"]): Prediction(
        id=str(data["id"]), pii=_spans(data.get("pii"), f"{path}:{number}"),
        executable=bool(data.get("executable", False)))
        for number, data in _json_lines(path)}


def write_predictions(path: str | Path, predictions: Iterable[Prediction]) -> None:
    """Write predictions, one JSON object per line."""
    with Path(path).open("w", encoding="utf-8") as out:
        for prediction in predictions:
            out.write(json.dumps(prediction.as_dict(), ensure_ascii=False) + "\n")


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def score_spans(gold: Iterable[Span], predicted: Iterable[Span]) -> tuple[Counts, list[Span],
                                                                          list[Span]]:
    """Match one type's spans in one record; returns counts, unmatched gold and false positives."""
    gold_list = list(gold)
    pred_list = list(predicted)
    pairs = []
    for gi, g in enumerate(gold_list):
        need = (g.end - g.start) / 2
        for pi, p in enumerate(pred_list):
            overlap = _overlap(g, p)
            if overlap > 0 and overlap >= need:
                pairs.append((overlap, gi, pi))
    # Largest overlaps first gives the one-to-one matching that credits the best candidates.
    pairs.sort(key=lambda item: (-item[0], item[1], item[2]))
    gold_matched: set[int] = set()
    pred_matched: set[int] = set()
    for _, gi, pi in pairs:
        if gi not in gold_matched and pi not in pred_matched:
            gold_matched.add(gi)
            pred_matched.add(pi)
    counts = Counts(tp=len(gold_matched))
    false_positives = []
    for pi, p in enumerate(pred_list):
        if pi in pred_matched:
            continue
        if any(_overlap(gold_list[gi], p) > 0 for gi in gold_matched):
            continue  # a fragment or duplicate of something already found
        false_positives.append(p)
    counts.fp = len(false_positives)
    missed = [g for gi, g in enumerate(gold_list) if gi not in gold_matched]
    counts.fn = len(missed)
    return counts, missed, false_positives


def score(records: Iterable[Record], predictions: Mapping[str, Prediction]) -> Report:
    """Score predictions (by record id; a missing id is an empty prediction) against records."""
    report = Report()
    for record in records:
        report.records += 1
        prediction = predictions.get(record.id, Prediction(record.id))
        predicted = [s for s in prediction.pii if s.type in PII_TYPES]
        for type_ in PII_TYPES:
            counts, missed, false_pos = score_spans(
                (s for s in record.pii if s.type == type_),
                (s for s in predicted if s.type == type_))
            report.per_type[type_].add(counts)
            report.errors.extend(("pii_fn", record.id, f"{s.type} {s.start}:{s.end}")
                                 for s in missed)
            report.errors.extend(("pii_fp", record.id, f"{s.type} {s.start}:{s.end}")
                                 for s in false_pos)
        if prediction.executable and record.executable:
            report.executable.tp += 1
        elif prediction.executable:
            report.executable.fp += 1
            report.errors.append(("exec_fp", record.id, record.family))
        elif record.executable:
            report.executable.fn += 1
            report.errors.append(("exec_fn", record.id, record.family))
        if record.family.startswith("neg."):
            report.hard_negatives += 1
            if predicted or prediction.executable:
                report.hard_negative_flagged += 1
                report.errors.append(("neg_flagged", record.id, record.family))
    return report


def predict(records: Iterable[Record],
            predictor: Callable[[str], tuple[Iterable[Span], bool]]) -> list[Prediction]:
    """Run a predictor on each record's text only (never its labels)."""
    out = []
    for record in records:
        spans, executable = predictor(record.text)
        out.append(Prediction(record.id, tuple(spans), executable))
    return out


def format_report(report: Report) -> str:
    """A plain-text table of the scores."""
    lines = [f"records: {report.records}", "",
             f"{'type':<14}{'tp':>6}{'fp':>6}{'fn':>6}{'precision':>11}{'recall':>9}{'f1':>9}"]

    def row(name: str, c: Counts) -> str:
        return (f"{name:<14}{c.tp:>6}{c.fp:>6}{c.fn:>6}{c.precision:>11.4f}{c.recall:>9.4f}"
                f"{c.f1:>9.4f}")

    lines.extend(row(t, c) for t, c in report.per_type.items())
    lines.append(row("PII (micro)", report.pii_micro))
    lines.append(row("executable", report.executable))
    lines.append("")
    lines.append(f"hard-negative FPR: {report.hard_negative_fpr:.4f} "
                 f"({report.hard_negative_flagged}/{report.hard_negatives})")
    return "\n".join(lines)
