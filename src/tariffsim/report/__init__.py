"""The `tariffsim run` report: renders a :class:`~tariffsim.run.RunResult` as HTML, JSON, Parquet and CSV.

Presentation only: nothing here computes a model result. Figures come from the
run's figure specs (:mod:`.figures`), tables from its table views (:mod:`.tables`),
outputs are written atomically (:mod:`.write`).
"""

from __future__ import annotations

from .html import render_report
from .write import check_out, write_outputs

__all__ = ["render_report", "write_outputs", "check_out"]
