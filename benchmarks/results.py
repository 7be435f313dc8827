"""What a run records: one row per (workload, case, contender), plus the machine it ran on."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.contenders.base import Spec
from benchmarks.counting import Counts
from benchmarks.timing import Timing

__all__ = ["Results", "Row"]


@dataclass(slots=True)
class Row:
    workload: str
    case: str
    contender: str
    label: str
    kind: str
    family: str
    driver: str
    median_ms: float
    p90_ms: float
    rate: float
    operations: int
    round_medians_ms: list[float]
    counts: dict[str, float | None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("median_ms", "p90_ms", "rate"):
            if isinstance(data[key], float) and math.isnan(data[key]):
                data[key] = None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        """The row :meth:`as_dict` wrote (missing figures back to NaN)."""
        values = dict(data)
        for key in ("median_ms", "p90_ms", "rate"):
            if values.get(key) is None:
                values[key] = math.nan
        return cls(**values)


@dataclass
class Results:
    """Every row of a run, in the order measured."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Contenders not measured because the installed library refused their settings: name, label, why.
    skipped: list[dict[str, str]] = field(default_factory=list)

    def add(
        self,
        workload: str,
        case: str,
        spec: Spec,
        timing: Timing,
        counts: Counts | None = None,
        **extra: Any,
    ) -> Row:
        row = Row(
            workload=workload,
            case=case,
            contender=spec.name,
            label=spec.label,
            kind=spec.kind,
            family=spec.family,
            driver=spec.driver,
            median_ms=timing.median_ms,
            p90_ms=timing.p90_ms,
            rate=timing.rate,
            operations=len(timing.latencies_ns),
            round_medians_ms=timing.round_medians_ms,
            counts=counts.as_dict() if counts is not None else None,
            extra=extra,
        )
        self.rows.append(row)
        return row

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        """The rows and notes of a results JSON file."""
        return cls(
            rows=[Row.from_dict(row) for row in data["rows"]],
            notes=list(data.get("notes", [])),
            skipped=list(data.get("skipped", [])),
        )

    def find(self, workload: str, case: str, contender: str) -> Row | None:
        for row in self.rows:
            if (row.workload, row.case, row.contender) == (workload, case, contender):
                return row
        return None

    def skip(self, spec: Spec, why: str) -> None:
        """``spec`` was not measured: the installed library refuses its settings (noted once per variant)."""
        entry = {"contender": spec.name, "label": spec.label, "family": spec.family, "variant": spec.variant}
        if entry in [{key: item.get(key) for key in entry} for item in self.skipped]:
            return
        self.skipped.append({**entry, "why": why})
        self.note(f"{spec.label}: not measured, {why}")

    def note(self, text: str) -> None:
        print(f"note: {text}", flush=True)
        self.notes.append(text)
