"""Section: the US-Japan deal clause by clause on each date: ledger, waterfall, margins, exchange rates.

All numbers come from :func:`tariffsim.deal_section` (strategy layer: the deal ledger, threat
points by legal authority, participation margins, exchange rates between instruments).
"""

from __future__ import annotations

import polars as pl

from ... import api
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView


def deal_section(ctx: RunContext) -> SectionResult:
    """Ledger and margins on the scenario's ``strategy.deal_ledger.dates`` (default 2025-09-16 and the as-of date)."""
    spec = ctx.scenario.strategy.deal_ledger
    if spec is None or not spec.enabled:
        return SectionResult.skipped("deal", "", "The scenario has no deal_ledger task.")
    if not {"USA", "JPN"} <= set(ctx.world.regions):
        return SectionResult.skipped("deal", "", "The deal ledger needs a world with USA and JPN.")
    res = api.deal_section(ctx.world, dates=list(spec.dates), closure=ctx.scenario.model.ge.closure)
    figs = []
    for d in res.dates:
        w = res.waterfall.filter(pl.col("date") == str(d))
        figs.append(FigureSpec(f"fig-deal-waterfall-{d.isoformat()}", f"Deal waterfall {d.isoformat()}", "deal_waterfall",
                               w, {"date": d.isoformat()},
                               f"Value of each clause in force on {d.isoformat()} to each side alone, then the GE interaction "
                               "between clauses, ending at the whole deal; USD bn per year against the no-deal alternative "
                               "(the threat point legally available on that date), 2017 GE world."))
    ledger_cols = [c for c in ("date", "clause", "status", "instrument", "ev_usa_usd_bn", "ev_jpn_usd_bn", "method")
                   if c in res.ledger.columns]
    whole = {d: {"USA": v[0], "JPN": v[1]} for d, v in res.whole_ev_usd_bn.items()}
    note = " ".join(res.lines)
    return SectionResult(
        "deal", "", note=note, figures=figs,
        tables={"deal_ledger": res.ledger, "deal_waterfall": res.waterfall, "deal_margins": res.margins,
                "deal_sensitivity": res.sensitivity, "deal_exchange_rates": res.exchange_rates},
        views=[TableView(res.ledger.select(ledger_cols), digits=2, max_rows=60),
               TableView(res.margins, digits=2), TableView(res.exchange_rates, digits=3)],
        data={"dates": [d.isoformat() for d in res.dates], "lines": list(res.lines), "whole_deal_ev_usd_bn": whole,
              "exchange_rate_date": res.exchange_rate_date.isoformat()})
