"""What a scenario run produces: plain data (tables, key numbers, figure specs), no rendering.

:class:`RunResult` holds one :class:`SectionResult` per report section. A section's
figures are :class:`FigureSpec` objects, data plus the name of the chart that
:mod:`tariffsim.report.figures` draws from it; its tables for display are
:class:`TableView` objects. :mod:`tariffsim.report` turns a RunResult into HTML,
JSON, Parquet and CSV and computes nothing.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np


@dataclass
class FigureSpec:
    """A chart as data: ``kind`` names a function of :mod:`tariffsim.report.figures`, called as
    ``kind(data, **options)``; ``id`` is the HTML id (``fig-...``)."""

    id: str
    title: str
    kind: str
    data: Any
    options: dict[str, Any] = field(default_factory=dict)
    caption: str = ""


@dataclass
class TableView:
    """A table shown in the report: a polars DataFrame with display settings."""

    df: Any
    digits: int = 2
    max_rows: int = 40


@dataclass
class SectionResult:
    """What one report section computed.

    ``status``: ``"ok"`` or ``"skipped"`` (the scenario does not ask for it: see ``note``).
    ``prose_html`` / ``prose_after_html``: fixed, trusted explanatory HTML written by the
    section (the methods text, the references), shown before / after its tables.
    """

    key: str
    title: str
    status: str = "ok"
    note: str = ""
    figures: list[FigureSpec] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)      # name -> polars.DataFrame (written to tables/)
    views: list[TableView] = field(default_factory=list)      # tables shown in the report
    data: dict[str, Any] = field(default_factory=dict)        # JSON-able key numbers
    prose_html: str = ""                                      # shown before the tables
    prose_after_html: str = ""                                # shown after the tables
    seconds: float = 0.0
    cpu_seconds: float = 0.0                                  # process CPU time (all threads): robust to a busy machine
    warnings: list[str] = field(default_factory=list)         # warnings raised while computing (deduplicated)

    @classmethod
    def skipped(cls, key: str, title: str, why: str) -> "SectionResult":
        return cls(key, title, status="skipped", note=why)


@dataclass
class RunResult:
    """The outcome of a run: sections in report order, timings, and (once written) the output folder."""

    scenario: Any
    sections: list[SectionResult]
    seconds: float
    out: Path | None = None
    created: str = ""
    load_seconds: float = 0.0

    def section(self, key: str) -> SectionResult:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def tables(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for s in self.sections:
            out.update(s.tables)
        return out

    def to_json(self) -> dict[str, Any]:
        """Machine-readable results (what ``results.json`` holds)."""
        return {
            "tariffsim_version": version(),
            "scenario": self.scenario.name,
            "title": self.scenario.title,
            "scenario_file": str(self.scenario.path) if self.scenario.path else None,
            "created": self.created,
            "seconds": round(self.seconds, 3),
            "load_seconds": round(self.load_seconds, 3),
            "sections": {
                s.key: {"title": s.title, "status": s.status, "note": s.note, "seconds": round(s.seconds, 3),
                        "cpu_seconds": round(s.cpu_seconds, 3), "warnings": s.warnings,
                        "figures": [f.id for f in s.figures], "tables": sorted(s.tables), "data": jsonable(s.data)}
                for s in self.sections
            },
            "settings": self.scenario.model_dump(mode="json", by_alias=True),
        }

    def headline(self) -> list[dict[str, Any]]:
        """One-screen summary rows (label, value) for the terminal."""
        return list(self.section("summary").data.get("rows", [])) if any(s.key == "summary" for s in self.sections) else []


def version() -> str:
    """The installed tariffsim version."""
    from .. import __version__

    return __version__


def jsonable(x: Any) -> Any:
    """``x`` with numpy scalars/arrays, dates and paths turned into JSON types (non-finite floats -> None)."""
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if np.isfinite(v) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, (_dt.date, _dt.datetime)):
        return x.isoformat()
    if isinstance(x, Path):
        return str(x)
    return x
