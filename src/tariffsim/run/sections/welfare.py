"""Section: welfare by country for every solved outcome, with Monte Carlo bands over trade elasticities."""

from __future__ import annotations

import polars as pl

from ... import api
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView
from .common import ge_rows, partner_pair

#: Model families that ``tariffsim.monte_carlo(..., model=)`` draws for (the others get a note, no bands).
MC_FAMILIES = ("caliendo_parro", "ilms2025")


def welfare_section(ctx: RunContext) -> SectionResult:
    """Welfare by region and outcome; 5th-95th percentile bands from ``tariffsim.monte_carlo`` where asked."""
    if not ctx.solved:
        return SectionResult.skipped("welfare", "", "No GE outcome was computed (no counterfactual, optimal or Nash task).")
    regions = list(ctx.baseline.regions)
    df = pl.DataFrame([r for s in ctx.solved.values() for r in ge_rows(s)])
    mc = ctx.scenario.monte_carlo
    note, bands = "", None
    if mc is not None and ctx.family not in MC_FAMILIES:
        note = (f"No uncertainty bands: tariffsim.monte_carlo draws the elasticities of model families "
                f"{', '.join(MC_FAMILIES)} only, not of {ctx.family!r}.")
    elif mc is not None:
        # every GE outcome the summary shows gets a band, the scenario's list first
        names = list(dict.fromkeys(list(mc.counterfactuals or []) + [s.name for s in ctx.solved.values()]))
        parts, sources, spread = [], [], ""
        for name in names:
            s = ctx.solved.get(name)
            if s is None:
                continue
            kw = dict(mc.options)
            if s.deficits is not None:
                kw.setdefault("deficits", s.deficits)
            if ctx.model is None:
                res = api.monte_carlo(ctx.baseline, tariffs=s.tariffs, draws=mc.draws, seed=mc.seed,
                                      closure=ctx.scenario.model.ge.closure, **kw)
            else:   # another family: its Monte Carlo binds the world as loaded, with the scenario's model options
                res = api.monte_carlo(ctx.world, tariffs=s.tariffs, draws=mc.draws, seed=mc.seed,
                                      closure=ctx.scenario.model.ge.closure, model=ctx.family,
                                      **dict(ctx.scenario.model.options), **kw)
            parts.append(bands_pct(res.bands("welfare_hat")).with_columns(pl.lit(name).alias("counterfactual")))
            sources = list(res.theta_sd_source)
            spread = res.meta.get("spread_note", "")
        if parts:
            bands = pl.concat(parts, how="diagonal_relaxed")
            df = df.join(bands.select("counterfactual", "region", "q05_pct", "q50_pct", "q95_pct"),
                         on=["counterfactual", "region"], how="left")
            note = (f"Bars: central estimate; whiskers: 5th-95th percentiles over {mc.draws} Monte Carlo draws of "
                    f"the trade elasticities (seed {mc.seed}), for every outcome. {spread or spread_caption(sources)}")
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
                                             "Change in real income (equivalent variation as percent of baseline income) "
                                             "by country. " + note)],
                         tables=tables, views=[TableView(wide, digits=3)],
                         data={"rows": df.filter(pl.col("region").is_in([a, b])).to_dicts()})


def spread_caption(sources: list[str]) -> str:
    """The elasticity spread behind the bands, from ``MonteCarloResult.theta_sd_source`` (one entry per sector)."""
    if not sources:
        return ""
    assumed = [x for x in sources if x.startswith("default_cv_")]
    published = [x for x in sources if not x.startswith("default_cv_") and x != "given"]
    parts = []
    if published:
        parts.append(f"{len(published)} sectors use published standard errors")
    if assumed:
        cv = float(assumed[0].removeprefix("default_cv_"))
        parts.append(f"{len(assumed)} of {len(sources)} sectors use an assumed spread of {cv:.0%} of the estimate "
                     "(log-normal; the Caliendo-Parro (2015) estimates carry no standard errors in their replication file)")
    if len(sources) - len(assumed) - len(published):
        parts.append("user-given standard deviations elsewhere")
    return "Elasticity spread: " + "; ".join(parts) + "."


def bands_pct(b: pl.DataFrame) -> pl.DataFrame:
    """``MonteCarloResult.bands("welfare_hat")`` (region, q05, q50, q95 as hats) -> percent changes 100 (hat - 1)."""
    return b.select("region", *[(100 * (pl.col(q) - 1)).alias(f"{q}_pct") for q in ("q05", "q50", "q95")])
