"""Scenario execution: the application layer above :mod:`tariffsim.api`.

``compute_run(scenario) -> RunResult`` computes every report section as plain
data (tables, key numbers, figure specs); :mod:`tariffsim.report` renders it.
"""

from __future__ import annotations

from .context import RunContext, Solved, as_scenario
from .result import FigureSpec, RunResult, SectionResult, TableView, jsonable, version
from .runner import compute_run, scenario_baseline

__all__ = ["RunContext", "Solved", "as_scenario", "FigureSpec", "RunResult", "SectionResult", "TableView", "jsonable",
           "version", "compute_run", "scenario_baseline"]
