"""Section: every GE counterfactual of the scenario, solved once (warm-started from its base)."""

from __future__ import annotations

import polars as pl

from .. import quantities as Q
from ..context import RunContext
from ..result import SectionResult, TableView
from .common import bilateral_row, ge_rows, partner_pair


def counterfactuals_section(ctx: RunContext) -> SectionResult:
    """Solve every GE counterfactual; tables of welfare/trade by region, the followed pair, solver diagnostics."""
    scn = ctx.scenario
    if not scn.counterfactuals:
        return SectionResult.skipped("counterfactuals", "", "The scenario defines no counterfactuals.")
    solved = [ctx.counterfactual(cf.name) for cf in scn.counterfactuals]
    a, b = partner_pair(ctx)
    rows = [r for s in solved for r in ge_rows(s)]
    bil = pl.DataFrame([bilateral_row(s, ctx.baseline, a, b) for s in solved])
    diag = pl.DataFrame([{"counterfactual": s.name, "residual": float(s.eq.residual), "iterations": int(s.eq.iterations),
                          "milliseconds": 1e3 * float(s.eq.seconds), "closure": s.eq.closure} for s in solved])
    show = bil.select("label", *[c for c in bil.columns if c not in ("counterfactual", "label")])
    return SectionResult("counterfactuals", "", note=ctx.baseline_note,
                         tables={"ge_counterfactuals": pl.DataFrame(rows), "ge_bilateral": bil, "ge_diagnostics": diag},
                         views=[TableView(show, digits=2)],
                         data={"solved": [s.name for s in solved], "bilateral": bil.to_dicts(),
                               "quantities": Q.quantities_data(
                                   Q.deficit_ge_baseline(ctx, a, b),
                                   *[Q.counterfactual_ev(ctx, s.name, r) for s in solved for r in (a, b)])})
