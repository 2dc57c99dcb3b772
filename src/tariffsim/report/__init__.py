"""The `tariffsim run` report: sections (one function each), plotly figures, HTML, atomic outputs.

Imports only :mod:`tariffsim.api` and :mod:`tariffsim.scenario`.
"""

from __future__ import annotations

from .runner import RunResult, SectionResult, run_scenario, scenario_baseline

__all__ = ["RunResult", "SectionResult", "run_scenario", "scenario_baseline"]
