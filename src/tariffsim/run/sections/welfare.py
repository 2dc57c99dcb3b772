"""Section: welfare by country for every solved outcome, with Monte Carlo bands over trade elasticities."""

from __future__ import annotations

import polars as pl

from ... import api
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView
from .common import ge_rows, partner_pair


def welfare_section(ctx: RunContext) -> SectionResult:
    """Welfare by region and outcome; 5th-95th percentile bands from ``tariffsim.monte_carlo`` where asked."""
    if not ctx.solved:
        return SectionResult.skipped("welfare", "", "No GE outcome was computed (no counterfactual, optimal or Nash task).")
    regions = list(ctx.baseline.regions)
    df = pl.DataFrame([r for s in ctx.solved.values() for r in ge_rows(s)])
    mc = ctx.scenario.monte_carlo
    note, bands = "", None
    if mc is not None:
        names = mc.counterfactuals or [s.name for s in ctx.solved.values()]
        parts = []
        for name in names:
            s = ctx.solved.get(name)
            if s is None:
                continue
            kw = dict(mc.options)
            if s.deficits is not None:
                kw.setdefault("deficits", s.deficits)
            res = api.monte_carlo(ctx.baseline, tariffs=s.tariffs, draws=mc.draws, seed=mc.seed,
                                  closure=ctx.scenario.model.ge.closure, **kw)
            parts.append(bands_pct(res.bands("welfare_hat")).with_columns(pl.lit(name).alias("counterfactual")))
        if parts:
            bands = pl.concat(parts, how="diagonal_relaxed")
            df = df.join(bands.select("counterfactual", "region", "q05_pct", "q50_pct", "q95_pct"),
                         on=["counterfactual", "region"], how="left")
            note = (f"Bars: central estimate; whiskers: 5th-95th percentiles over {mc.draws} Monte Carlo draws of "
                    f"the trade elasticities (seed {mc.seed}).")
    if "q05_pct" not in df.columns:
        df = df.with_columns(pl.lit(None, pl.Float64).alias("q05_pct"), pl.lit(None, pl.Float64).alias("q50_pct"),
                             pl.lit(None, pl.Float64).alias("q95_pct"))
    a, b = partner_pair(ctx)
    wide = (df.filter(pl.col("region").is_in([a, b]))
              .select("label", "region", "welfare_change_pct", "ev_usd_bn", "q05_pct", "q95_pct"))
    tables = {"welfare": df}
    if bands is not None:
        tables["welfare_bands"] = bands
    return SectionResult("welfare", "", note=note,
                         figures=[FigureSpec("fig-welfare", "Welfare by country", "welfare_by_country", df,
                                             {"regions": regions},
                                             "Change in real income (equivalent variation as percent of baseline income) by country.")],
                         tables=tables, views=[TableView(wide, digits=3)],
                         data={"rows": df.filter(pl.col("region").is_in([a, b])).to_dicts()})


def bands_pct(b: pl.DataFrame) -> pl.DataFrame:
    """``MonteCarloResult.bands("welfare_hat")`` (region, q05, q50, q95 as hats) -> percent changes 100 (hat - 1)."""
    return b.select("region", *[(100 * (pl.col(q) - 1)).alias(f"{q}_pct") for q in ("q05", "q50", "q95")])
