"""The report's sections: one function each, ``section(ctx) -> SectionResult``.

A function raises :class:`~tariffsim.report.runner._Unavailable` when an API it
needs is absent in this version (the section is then labelled "not available in
this version"); user errors propagate as :class:`~tariffsim.errors.TariffsimError`.
Order of :data:`SECTIONS` is the order of computation and of the report.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from typing import Any

import numpy as np
import polars as pl

from .. import api
from ..errors import CornerSolutionWarning, TariffsimError
from . import figures as F
from .runner import UNAVAILABLE, Figure, RunContext, SectionResult, Solved, _Unavailable, feature

BN = 1000.0  # USD mn per USD bn


# --------------------------------------------------------------------------- helpers
def _goods(world) -> np.ndarray:
    """Goods sectors: those carrying a tariff somewhere in the baseline (services carry none)."""
    g = np.asarray(world.tariffs).max(axis=(0, 1)) > 0
    return g if g.any() else np.ones(world.n_sectors, dtype=bool)


def bilateral_rate(tariffs: np.ndarray, flows: np.ndarray, i: int, j: int, goods: np.ndarray | None = None) -> float:
    """Trade-weighted tariff importer ``j`` levies on ``i`` over ``goods`` (weights: ``flows[i, j, goods]``)."""
    g = slice(None) if goods is None else goods
    w = flows[i, j, g]
    return float((tariffs[i, j, g] * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def ge_rows(s: Solved, baseline) -> list[dict[str, Any]]:
    """One row per region: welfare, EV, wages, trade and revenue changes of a solved counterfactual."""
    eq = s.eq
    summ = eq.summary()
    rows = []
    for r in summ.to_dicts():
        rows.append({
            "counterfactual": s.name, "label": s.label, "kind": s.kind, "region": r["region"],
            "welfare_change_pct": float(r["welfare_change_pct"]), "ev_usd_bn": float(r["ev_usd_mn"]) / BN,
            "real_wage_change_pct": float(r["real_wage_change_pct"]), "exports_change_pct": float(r["exports_change_pct"]),
            "imports_change_pct": float(r["imports_change_pct"]), "tariff_revenue_usd_bn": float(r["tariff_revenue_usd_mn"]) / BN,
            "trade_balance_usd_bn": float(r["trade_balance_usd_mn"]) / BN, "transfer_usd_bn": s.transfer_usd_bn,
        })
    return rows


def bilateral_row(s: Solved, baseline, a: str = "USA", b: str = "JPN") -> dict[str, Any]:
    """The a-b relationship in a counterfactual: tariffs each way, trade, and a's bilateral deficit."""
    ia, ib = baseline.index(a), baseline.index(b)
    f0, f1 = np.asarray(baseline.flows), np.asarray(s.eq.flows)
    g = _goods(baseline)
    m0, m1 = f0[ib, ia].sum(), f1[ib, ia].sum()
    x0, x1 = f0[ia, ib].sum(), f1[ia, ib].sum()
    return {
        "counterfactual": s.name, "label": s.label,
        f"{a}_tariff_on_{b}_pct": 100 * bilateral_rate(s.tariffs, f0, ib, ia, g),
        f"{b}_tariff_on_{a}_pct": 100 * bilateral_rate(s.tariffs, f0, ia, ib, g),
        f"{a}_imports_from_{b}_change_pct": 100 * (m1 / m0 - 1),
        f"{a}_exports_to_{b}_change_pct": 100 * (x1 / x0 - 1),
        f"{a}_deficit_with_{b}_usd_bn": (m1 - x1) / BN,
        f"{a}_deficit_with_{b}_base_usd_bn": (m0 - x0) / BN,
        f"{a}_tariff_revenue_usd_bn": float(s.eq.tariff_revenue[ia]) / BN,
    }


def _table_html(df: pl.DataFrame, *, digits: int = 2, max_rows: int = 40, cls: str = "tbl") -> str:
    from html import escape

    head = "".join(f"<th>{escape(str(c).replace('_', ' '))}</th>" for c in df.columns)
    body = []
    for row in df.head(max_rows).iter_rows():
        cells = []
        for v in row:
            if isinstance(v, float):
                txt = "" if not math.isfinite(v) else f"{v:,.{digits}f}"
                cells.append(f'<td class="num">{txt}</td>')
            else:
                cells.append(f"<td>{escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="note">First {max_rows} of {df.height} rows; all rows in the tables folder.</p>' if df.height > max_rows else ""
    return f'<div class="tblwrap"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{more}'


def _partner_pair(ctx: RunContext) -> tuple[str, str]:
    """The pair the report follows: fairness.pair, else USA and policy.partner, else the world's first two regions."""
    fair = ctx.scenario.fairness
    if fair is not None:
        return tuple(fair.pair)
    regions = list(ctx.baseline.regions)
    a = "USA" if "USA" in regions else regions[0]
    b = ctx.scenario.policy.partner
    if b not in regions or b == a:
        b = next(r for r in regions if r != a)
    return a, b


# --------------------------------------------------------------------------- 1. ETR timeline
def etr_section(ctx: RunContext) -> SectionResult:
    """Import-weighted US tariff rate on the partner and on all partners at each timeline date (policy layer).

    One ``etr(schedule, dates, by="partner")`` call per schedule; the all-partner rate is the
    import-weighted mean of the partner rates (same 2024 weights).
    """
    pol = ctx.scenario.policy
    if not pol.timeline:
        return SectionResult.skipped("etr", "", "The scenario has no policy timeline.")
    etr = feature("etr")
    if etr is None or feature("builtin_schedule") is None:
        raise _Unavailable("effective tariff rates (tariffsim.etr)")
    by_sched: dict[str, list[int]] = {}
    for k, e in enumerate(pol.timeline):
        by_sched.setdefault(e.schedule, []).append(k)
    rates: dict[int, tuple[float, float]] = {}
    for name, idx in by_sched.items():
        sch = ctx.schedule(name, ("policy", "timeline", idx[0], "schedule"))
        dates = [pol.timeline[k].date for k in idx]
        t = _to_pl(etr(sch, dates, by="partner"))
        rate, w = _rate_column(t), ("value_usd" if "value_usd" in t.columns else "imports_usd")
        agg = (t.group_by("date").agg(((pl.col(rate) * pl.col(w)).sum() / pl.col(w).sum()).alias("all"),
                                      pl.col(rate).filter(pl.col("partner") == pol.partner).first().alias("partner")))
        got = {r["date"]: (r["partner"], r["all"]) for r in agg.to_dicts()}
        for k in idx:
            p, al = got.get(pol.timeline[k].date, (None, None))
            rates[k] = (float("nan") if p is None else float(p), float("nan") if al is None else float(al))
    rows = [{"date": e.date, "label": e.label or e.schedule, "schedule": e.schedule,
             "etr_partner_pct": 100 * rates[k][0], "etr_all_pct": 100 * rates[k][1]} for k, e in enumerate(pol.timeline)]
    df = pl.DataFrame(rows)
    fig = F.etr_timeline(df, pol.partner)
    last = rows[-1]
    return SectionResult(
        "etr", "", figures=[Figure("fig-etr-timeline", "ETR timeline", fig,
                                   f"Import-weighted (2024 import values, pre-substitution) US tariff rate on {pol.partner} and on all partners.")],
        tables={"etr_timeline": df},
        data={"partner": pol.partner, "latest": {"date": last["date"], "etr_partner_pct": last["etr_partner_pct"],
                                                  "etr_all_pct": last["etr_all_pct"]}},
        html=_table_html(df.with_columns(pl.col("date").cast(pl.Utf8)), digits=1))


def _to_pl(x) -> pl.DataFrame:
    if isinstance(x, pl.DataFrame):
        return x
    if hasattr(x, "to_polars"):
        return x.to_polars()
    if isinstance(x, (int, float)):
        return pl.DataFrame({"etr": [float(x)]})
    if hasattr(x, "table"):
        return _to_pl(x.table)
    return pl.DataFrame(x)


def _rate_column(df: pl.DataFrame) -> str:
    for c in ("etr", "etr_pre", "etr_pre_substitution", "tariff_rate", "rate"):
        if c in df.columns:
            return c
    cands = [c for c in df.columns if "etr" in c]
    if cands:
        return cands[0]
    raise TariffsimError(f"etr: no rate column in {df.columns}")


def _accepts_none(fn) -> bool:
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    p = sig.parameters.get("by")
    return p is not None


# --------------------------------------------------------------------------- 2. GE counterfactuals
def counterfactuals_section(ctx: RunContext) -> SectionResult:
    """Solve every GE counterfactual of the scenario (once; warm-started from its base)."""
    scn = ctx.scenario
    if not scn.counterfactuals:
        return SectionResult.skipped("counterfactuals", "", "The scenario defines no counterfactuals.")
    missing = []
    for cf in scn.counterfactuals:
        try:
            ctx.counterfactual(cf.name)
        except _Unavailable as exc:
            missing.append(f"{cf.name} ({exc.what})")
    solved = [ctx.solved[c.name] for c in scn.counterfactuals if c.name in ctx.solved]
    if not solved:
        raise _Unavailable("GE counterfactuals: " + "; ".join(missing))
    a, b = _partner_pair(ctx)
    rows = [r for s in solved for r in ge_rows(s, ctx.baseline)]
    bil = pl.DataFrame([bilateral_row(s, ctx.baseline, a, b) for s in solved])
    diag = pl.DataFrame([{"counterfactual": s.name, "residual": float(s.eq.residual), "iterations": int(s.eq.iterations),
                          "milliseconds": 1e3 * float(s.eq.seconds), "closure": s.eq.closure} for s in solved])
    note = ctx.baseline_note
    if missing:
        note += " Not computed (" + UNAVAILABLE + "): " + "; ".join(missing) + "."
    show = bil.select("label", *[c for c in bil.columns if c not in ("counterfactual", "label")])
    return SectionResult("counterfactuals", "", note=note,
                         tables={"ge_counterfactuals": pl.DataFrame(rows), "ge_bilateral": bil, "ge_diagnostics": diag},
                         data={"solved": [s.name for s in solved], "bilateral": bil.to_dicts()},
                         html=_table_html(show, digits=2))


# --------------------------------------------------------------------------- 3. trade war
def war_section(ctx: RunContext) -> SectionResult:
    """Best responses (optimal tariffs) and Nash wars; each outcome is re-solved in the scenario's GE."""
    st = ctx.scenario.strategy
    if not st.optimal and not st.nash:
        return SectionResult.skipped("war", "", "The scenario has no optimal-tariff or Nash tasks.")
    closure = ctx.scenario.model.ge.closure
    rows, notes, missing = [], [], []
    for task in st.optimal:
        others = ctx.counterfactual(task.against).tariffs if task.against else np.asarray(ctx.baseline.tariffs)
        warm = ctx.solved[task.against].eq if task.against else None
        j = ctx.baseline.index(task.country)
        if task.exporters:
            t_opt, info = _optimal_on_partners(ctx, task, others, warm)
        else:
            fn = feature("optimal_tariff")
            if fn is None:
                missing.append(f"{task.name} (tariffsim.optimal_tariff)")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CornerSolutionWarning)
                res = fn(ctx.baseline, task.country, structure=task.structure, others=others, closure=closure,
                         bounds=(0.0, float(task.upper)))
            t_opt = np.asarray(res.tariff_rate)
            info = {"corner": bool(getattr(res, "corner", False)), "iterations": int(getattr(res, "iterations", 0))}
        eq = ctx.solve(t_opt, warm=warm)
        s = Solved(task.name, task.label or f"{task.country} optimal tariff", "optimal", t_opt, None, eq, meta=info)
        ctx.add_solved(s)
        for i, e in enumerate(ctx.baseline.regions):
            if i == j or (task.exporters and e not in task.exporters):
                continue
            rows.append({"task": task.name, "importer": task.country, "exporter": e,
                         "tariff_pct": 100 * bilateral_rate(t_opt, np.asarray(ctx.baseline.flows), i, j, _goods(ctx.baseline)),
                         "welfare_change_pct": 100 * (float(eq.welfare_hat[j]) - 1)})
        notes.append(f"{s.label}: {task.country}'s welfare {100 * (eq.welfare_hat[j] - 1):+.3f}%"
                     + (" (corner solution)" if info.get("corner") else ""))
    for task in st.nash:
        fn = feature("nash_tariffs")
        if fn is None:
            missing.append(f"{task.name} (tariffsim.nash_tariffs)")
            continue
        start = ctx.counterfactual(task.start).tariffs if task.start else np.asarray(ctx.baseline.tariffs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CornerSolutionWarning)
            res = fn(ctx.baseline, list(task.players), structure=task.structure, start=start, closure=closure,
                     bounds=(0.0, float(task.upper)))
        t_n = np.asarray(res.tariff_rate)
        warm = ctx.solved[task.start].eq if task.start else None
        eq = ctx.solve(t_n, warm=warm)
        s = Solved(task.name, task.label or "Nash tariff war", "nash", t_n, None, eq,
                   meta={"rounds": int(getattr(res, "rounds", 0))})
        ctx.add_solved(s)
        for p in task.players:
            j = ctx.baseline.index(p)
            for q in task.players:
                if q == p:
                    continue
                i = ctx.baseline.index(q)
                rows.append({"task": task.name, "importer": p, "exporter": q,
                             "tariff_pct": 100 * bilateral_rate(t_n, np.asarray(ctx.baseline.flows), i, j, _goods(ctx.baseline)),
                             "welfare_change_pct": 100 * (float(eq.welfare_hat[j]) - 1)})
    if not rows:
        raise _Unavailable("trade war: " + "; ".join(missing))
    df = pl.DataFrame(rows)
    note = " ".join(n + "." for n in notes)
    if missing:
        note += f" Not computed ({UNAVAILABLE}): " + "; ".join(missing) + "."
    return SectionResult("war", "", note=note.strip(), tables={"war_tariffs": df},
                         figures=[Figure("fig-war", "Trade war tariffs", F.war_tariffs(df),
                                         "Trade-weighted tariffs chosen in each task (baseline trade weights).")],
                         data={"tasks": df.to_dicts()}, html=_table_html(df, digits=2))


def _optimal_on_partners(ctx: RunContext, task, others: np.ndarray, warm) -> tuple[np.ndarray, dict]:
    """``task.country``'s welfare-maximising uniform tariff on ``task.exporters`` only (others fixed).

    A one-dimensional problem, solved by bounded Brent search (scipy) over GE solves
    warm-started from the previous point; the retaliation variant of a best response.
    """
    from scipy.optimize import minimize_scalar

    j = ctx.baseline.index(task.country)
    state = {"eq": warm, "n": 0}

    def tariffs(r: float) -> np.ndarray:
        return ctx.baseline.tariffs_with(importer=task.country, exporter=list(task.exporters), set=float(r), base=others)

    def neg_w(r: float) -> float:
        eq = ctx.solve(tariffs(r), warm=state["eq"])
        state["eq"], state["n"] = eq, state["n"] + 1
        return -100.0 * math.log(float(eq.welfare_hat[j]))

    res = minimize_scalar(neg_w, bounds=(0.0, float(task.upper)), method="bounded", options={"xatol": 1e-4})
    r = float(res.x)
    return tariffs(r), {"rate": r, "evaluations": state["n"], "corner": bool(r > float(task.upper) - 1e-3)}


# --------------------------------------------------------------------------- 4. welfare + bands
def welfare_section(ctx: RunContext) -> SectionResult:
    """Welfare by country for every solved outcome, with Monte Carlo bands over trade elasticities."""
    if not ctx.solved:
        raise _Unavailable("welfare (no GE outcome was computed)")
    regions = list(ctx.baseline.regions)
    df = pl.DataFrame([r for s in ctx.solved.values() for r in ge_rows(s, ctx.baseline)])
    mc = ctx.scenario.monte_carlo
    note, bands = "", None
    if mc is not None:
        fn = feature("monte_carlo")
        if fn is None:
            note = f"Uncertainty bands (tariffsim.monte_carlo): {UNAVAILABLE}."
        else:
            names = mc.counterfactuals or [s.name for s in ctx.solved.values()]
            parts = []
            for name in names:
                s = ctx.solved.get(name)
                if s is None:
                    continue
                kw = dict(mc.options)
                if s.deficits is not None:
                    kw.setdefault("deficits", s.deficits)
                res = fn(ctx.baseline, tariffs=s.tariffs, draws=mc.draws, seed=mc.seed,
                         closure=ctx.scenario.model.ge.closure, **kw)
                b = _to_pl(res.bands("welfare_hat"))
                parts.append(_bands_pct(b).with_columns(pl.lit(name).alias("counterfactual")))
            if parts:
                bands = pl.concat(parts, how="diagonal_relaxed")
                df = df.join(bands.select("counterfactual", "region", "q05_pct", "q50_pct", "q95_pct"),
                             on=["counterfactual", "region"], how="left")
                note = (f"Bars: central estimate; whiskers: 5th-95th percentiles over {mc.draws} Monte Carlo draws of "
                        f"the trade elasticities (seed {mc.seed}).")
    if "q05_pct" not in df.columns:
        df = df.with_columns(pl.lit(None, pl.Float64).alias("q05_pct"), pl.lit(None, pl.Float64).alias("q50_pct"),
                             pl.lit(None, pl.Float64).alias("q95_pct"))
    fig = F.welfare_by_country(df, regions)
    a, b = _partner_pair(ctx)
    wide = (df.filter(pl.col("region").is_in([a, b]))
              .select("label", "region", "welfare_change_pct", "ev_usd_bn", "q05_pct", "q95_pct"))
    tables = {"welfare": df}
    if bands is not None:
        tables["welfare_bands"] = bands
    return SectionResult("welfare", "", note=note, figures=[Figure("fig-welfare", "Welfare by country", fig,
                         "Change in real income (equivalent variation as percent of baseline income) by country.")],
                         tables=tables, data={"rows": df.filter(pl.col("region").is_in([a, b])).to_dicts()},
                         html=_table_html(wide, digits=3))


def _bands_pct(b: pl.DataFrame) -> pl.DataFrame:
    """Bands table (region x q05/q50/q95 of welfare_hat, or already percent) -> percent changes."""
    cols = {}
    for q in ("q05", "q50", "q95"):
        c = next((x for x in b.columns if x == q or x.startswith(q)), None)
        if c is None:
            raise TariffsimError(f"monte_carlo bands: no {q} column in {b.columns}")
        cols[q] = c
    region = "region" if "region" in b.columns else b.columns[0]
    out = b.select(pl.col(region).alias("region"), *[pl.col(c).alias(q) for q, c in cols.items()])
    is_hat = float(out["q50"].mean()) > 0.5  # hats are near 1, percents near 0
    conv = (lambda c: 100 * (pl.col(c) - 1)) if is_hat else (lambda c: pl.col(c))
    return out.select("region", *[conv(q).alias(f"{q}_pct") for q in ("q05", "q50", "q95")])


# --------------------------------------------------------------------------- 5. products (PE)
def products_section(ctx: RunContext) -> SectionResult:
    """Product-level PE: US imports by HS10 and partner under a schedule; the partner's top changes."""
    spec = ctx.scenario.model.pe
    if not spec.enabled:
        return SectionResult.skipped("products", "", "Product-level PE is switched off in the scenario.")
    fn = feature("pe.simulate_schedule")
    if fn is None or feature("builtin_schedule") is None:
        raise _Unavailable("product-level PE under a schedule (tariffsim.pe.simulate_schedule)")
    try:
        res = fn(spec.schedule, spec.date, base=ctx.scenario.policy.baseline or "baseline-2024",
                 base_date=ctx.scenario.policy.baseline_date)
    except TariffsimError as exc:
        raise ctx.scenario.error(("model", "pe", "schedule"), str(exc)) from None
    t = res.table.filter(pl.col("source") == spec.partner)
    by = (t.group_by("product").agg(pl.col("value_usd").sum(), pl.col("value_usd_new").sum(),
                                     pl.col("tariff_old").first(), pl.col("tariff_new").first())
           .with_columns(change_usd_mn=(pl.col("value_usd_new") - pl.col("value_usd")) / 1e6,
                         change_pct=100 * (pl.col("value_usd_new") / pl.col("value_usd") - 1))
           .sort(pl.col("change_usd_mn").abs(), descending=True)
           .rename({"product": "hs10"}))
    desc = _descriptions()
    if desc is not None:
        by = by.join(desc, on="hs10", how="left")
    if "description" not in by.columns:
        by = by.with_columns(pl.lit("").alias("description"))
    by = by.with_columns(pl.col("description").fill_null(""),
                         (100 * pl.col("tariff_old")).alias("tariff_old_pct"), (100 * pl.col("tariff_new")).alias("tariff_new_pct"))
    top = by.head(spec.top).select("hs10", "description", "tariff_old_pct", "tariff_new_pct",
                                   (pl.col("value_usd") / 1e6).alias("imports_2024_usd_mn"), "change_usd_mn", "change_pct")
    by_source = res.summary("source").with_columns((pl.col("value_usd") / 1e9).alias("imports_usd_bn"),
                                                   ((pl.col("value_usd_new") - pl.col("value_usd")) / 1e9).alias("change_usd_bn"))
    tot = res.totals()
    tp = by_source.filter(pl.col("source") == spec.partner)
    data = {"schedule": spec.schedule, "date": spec.date, "partner": spec.partner,
            "imports_total_change_usd_bn": (tot["value_usd_new"] - tot["value_usd"]) / 1e9,
            "partner_imports_change_usd_bn": float(tp["change_usd_bn"][0]) if tp.height else None,
            "tariff_revenue_new_usd_bn": tot["tariff_revenue_new"] / 1e9,
            "deadweight_loss_usd_bn": tot["deadweight_loss_usd"] / 1e9}
    note = (f"Schedule {spec.schedule!r} on {spec.date.isoformat()} against {ctx.scenario.policy.baseline or 'baseline-2024'}; "
            f"US imports from {spec.partner} change by {_fmt_bn(data['partner_imports_change_usd_bn'])}, all US imports by "
            f"{_fmt_bn(data['imports_total_change_usd_bn'])}; tariff revenue {_fmt_bn(data['tariff_revenue_new_usd_bn'])}/yr.")
    return SectionResult("products", "", note=note,
                         figures=[Figure("fig-top-products", "Top products", F.top_products(top, spec.partner, spec.top),
                                         "Largest changes in US imports by HS10 product (exact CES partial equilibrium).")],
                         tables={"pe_top_products": top, "pe_by_partner": by_source.drop([c for c in by_source.columns if by_source[c].dtype == pl.Null])},
                         data=data, html=_table_html(top, digits=1, max_rows=spec.top))


def _fmt_bn(x) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:+,.1f} USD bn"


def _descriptions() -> pl.DataFrame | None:
    fn = feature("read_table")
    if fn is None:
        return None
    try:
        return fn("us_imports_japan_2024_hs10", "hs10_descriptions").select("hs10", "description")
    except TariffsimError:
        return None


# --------------------------------------------------------------------------- 6. bargaining
def bargain_section(ctx: RunContext) -> SectionResult:
    """Nash bargaining over tariffs and a transfer: Pareto frontier in (EV_a, EV_b) and where the deal sits."""
    tasks = ctx.scenario.strategy.bargain
    if not tasks:
        return SectionResult.skipped("bargain", "", "The scenario has no bargaining task.")
    fn = feature("bargain")
    if fn is None:
        raise _Unavailable("Nash bargaining and the Pareto frontier (tariffsim.bargain)")
    k, task = 0, tasks[0]
    loc = ("strategy", "bargain", k)
    a, b = task.players
    ia, ib = ctx.baseline.index(a), ctx.baseline.index(b)
    if task.disagreement in ("nash", "threat"):
        threat: Any = task.disagreement
    else:
        threat = ctx.counterfactual(task.disagreement).tariffs
    deal = ctx.counterfactual(task.deal) if task.deal else None
    kw = dict(task.options)
    kw.setdefault("closure", ctx.scenario.model.ge.closure)
    kw.setdefault("n_frontier", task.frontier_points)
    if task.security_value_usd_bn is not None:
        kw.setdefault("security_value_usd", {p: BN * v for p, v in task.security_value_usd_bn.items()})
    Deal = feature("Deal")
    if deal is not None and Deal is not None:
        kw.setdefault("deal", Deal(name=deal.label, tariffs=deal.tariffs, transfer_usd=BN * deal.transfer_usd_bn))
    elif deal is None:
        kw.setdefault("deal", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        try:
            res = fn(ctx.baseline, players=(a, b), beta=task.beta, disagreement=threat, **kw)
        except TypeError as exc:
            raise ctx.scenario.error((*loc, "options"), f"tariffsim.bargain: {exc}") from None
    front = _frontier_columns(_to_pl(res.frontier()), a, b)
    points = []
    d_ev = np.asarray(res.disagreement.ev_usd) / BN
    points.append({"label": f"disagreement ({res.disagreement_kind})", "kind": "disagreement", "x": float(d_ev[0]), "y": float(d_ev[1])})
    nb = np.asarray(res.nbs.ev_usd) / BN
    points.append({"label": f"Nash bargaining (beta={task.beta:g})", "kind": "nash_bargaining", "x": float(nb[0]), "y": float(nb[1])})
    if res.deal is not None:
        dv = np.asarray(res.deal.point.ev_usd) / BN
        points.append({"label": res.deal.deal.name, "kind": "deal", "x": float(dv[0]), "y": float(dv[1])})
    for s in ctx.solved.values():   # the report's other outcomes, for reference
        if s.kind == "counterfactual" and deal is not None and s.name == deal.name and res.deal is not None:
            continue
        ev = s.eq.ev_usd / BN
        points.append({"label": s.label, "kind": s.kind, "x": float(ev[ia]), "y": float(ev[ib])})
    pts = pl.DataFrame(points)
    data: dict[str, Any] = {"players": [a, b], "beta": task.beta, "points": points,
                            "nbs_transfer_usd_bn": float(res.nbs.transfer_usd) / BN,
                            "security_value_usd_bn": (np.asarray(res.security_value_usd) / BN).tolist()}
    note = (f"Disagreement: {res.disagreement_kind}; security value lost at disagreement {a} "
            f"{res.security_value_usd[0] / BN:,.1f}, {b} {res.security_value_usd[1] / BN:,.1f} USD bn/yr. "
            f"Nash bargaining solution: transfer {b} to {a} {res.nbs.transfer_usd / BN:,.1f} USD bn/yr.")
    if res.deal is not None:
        dp = res.deal
        data["deal_position"] = {"gap_partner_usd_bn": dp.gap_partner_usd / BN, "distance_usd_bn": dp.distance_usd / BN,
                                 "home_share_of_surplus": dp.home_share_of_surplus, "efficiency": dp.efficiency,
                                 "individually_rational": list(dp.individually_rational)}
        note += (f" The deal ({dp.deal.name}) gives {a} {dv[0]:+,.1f} and {b} {dv[1]:+,.1f} USD bn/yr; {b} could gain "
                 f"{dp.gap_partner_usd / BN:,.1f} USD bn/yr more on the frontier; {a}'s share of the surplus "
                 f"{_num(dp.home_share_of_surplus)}, efficiency {_num(dp.efficiency)}"
                 + ("" if all(dp.individually_rational) else
                    f"; not individually rational for {', '.join(p for p, ok in zip((a, b), dp.individually_rational) if not ok)}")
                 + ".")
        data["headline"] = (f"{b} could gain {dp.gap_partner_usd / BN:,.1f} USD bn/yr more on the frontier "
                            f"(efficiency {_num(dp.efficiency)})")
    data.setdefault("headline", f"Nash bargaining: {a} {nb[0]:+,.1f}, {b} {nb[1]:+,.1f} USD bn/yr")
    tables = {"bargain_frontier": front, "bargain_points": pts}
    if callable(getattr(res, "summary", None)):
        tables["bargain_summary"] = _to_pl(res.summary())
    return SectionResult("bargain", "", note=note, tables=tables,
                         figures=[Figure("fig-frontier", "Pareto frontier", F.frontier(front, points, (a, b)),
                                         f"Pareto frontier of equivalent variations (USD bn/yr) of {a} and {b}, the disagreement point, the Nash bargaining solution and the deal.")],
                         data=data, html=_table_html(pts, digits=2))


def _num(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(float(x)) else f"{float(x):.{digits}f}"


def _frontier_columns(front: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """Frontier with columns ``ev_{a}_usd_bn``, ``ev_{b}_usd_bn`` (USD mn columns converted)."""
    out = {}
    for who in (a, b):
        col = next((c for c in front.columns if c.lower().startswith(f"ev_{who.lower()}_")), None)
        if col is None:
            raise TariffsimError(f"bargain: frontier lacks an EV column for {who} (has {front.columns})")
        out[who] = pl.col(col) / BN if col.endswith("_usd_mn") else pl.col(col)
    rest = [c for c in front.columns if not c.lower().startswith(("ev_",))]
    return front.select(out[a].alias(f"ev_{a}_usd_bn"), out[b].alias(f"ev_{b}_usd_bn"), *rest)


# --------------------------------------------------------------------------- 7. fairness
def fairness_section(ctx: RunContext) -> SectionResult:
    """Tariffs each way (GE-sector averages, policy-layer measures), the USTR formula's rate and the GE balancing tariff."""
    fair = ctx.scenario.fairness
    if fair is None:
        return SectionResult.skipped("fairness", "", "The scenario has no fairness settings.")
    a, b = fair.pair
    base = ctx.baseline
    ia, ib = base.index(a), base.index(b)
    f0, t0 = np.asarray(base.flows), np.asarray(base.tariffs)
    goods = _goods(base)
    rows = [
        {"measure": "GE baseline, trade-weighted (goods)", f"{a}_on_{b}_pct": 100 * bilateral_rate(t0, f0, ib, ia, goods),
         f"{b}_on_{a}_pct": 100 * bilateral_rate(t0, f0, ia, ib, goods), "source": f"{ctx.world.name}, GE baseline tariffs"},
        {"measure": "GE baseline, simple average (goods sectors)", f"{a}_on_{b}_pct": 100 * float(t0[ib, ia, goods].mean()),
         f"{b}_on_{a}_pct": 100 * float(t0[ia, ib, goods].mean()), "source": f"{ctx.world.name}, GE baseline tariffs"},
    ]
    notes, missing = [], []
    # policy layer: fairness table (trade-weighted, simple, NTB AVE) at the date
    fn = feature("fairness_table")
    if fn is not None:
        try:
            ft = _to_pl(_call_fairness(fn, a, b, fair, ctx.world))
            rows.extend(_fairness_rows(ft, a, b))
        except TypeError as exc:
            missing.append(f"fairness_table ({exc})")
    else:
        missing.append("tariff + NTB measures (tariffsim.fairness_table)")
    # USTR formula
    ustr = feature("ustr_reciprocal_rate")
    m_usd, x_usd = _bilateral_goods_trade(ctx, a, b)
    if any(r["measure"].startswith("USTR") for r in rows):
        pass  # the policy layer's table has it (announced rate one way, Delta tau the other)
    elif ustr is not None and m_usd is not None:
        announced, formula = _ustr_numbers(ustr(m_usd, x_usd)), (m_usd - x_usd) / m_usd
        rows.append({"measure": "USTR formula", f"{a}_on_{b}_pct": 100 * announced, f"{b}_on_{a}_pct": 100 * formula,
                     "source": f"{a}: announced max(10%, half of Delta tau); {b}: Delta tau = (m - x) / (4 x 0.25 x m), "
                               f"m = {m_usd / 1e9:.1f}bn, x = {x_usd / 1e9:.1f}bn (2024)"})
    else:
        missing.append("USTR formula (tariffsim.ustr_reciprocal_rate)")
    # GE balancing tariff
    bal_spec = ctx.scenario.strategy.balancing
    if bal_spec is not None and bal_spec.enabled:
        bfn = feature("balancing_tariff")
        if bfn is None:
            missing.append("GE balancing tariff (tariffsim.balancing_tariff)")
        else:
            bres = bfn(base, bal_spec.importer, bal_spec.exporter, closure=ctx.scenario.model.ge.closure)
            rate = bres.tariff_rate if bres.exists else None
            cur = 100 * bilateral_rate(t0, f0, base.index(bal_spec.exporter), base.index(bal_spec.importer), goods)
            col = f"{bal_spec.importer}_on_{bal_spec.exporter}_pct"
            row = {"measure": "GE balancing tariff",
                   f"{a}_on_{b}_pct": None, f"{b}_on_{a}_pct": None,
                   "source": (f"GE ({bres.closure} deficits): current trade-weighted rate + {100 * rate:.1f} pp on "
                              f"{len(bres.taxed_sectors)} goods sectors zeroes the bilateral goods deficit"
                              if rate is not None else f"none exists: {bres.reason}")}
            if col in row:
                row[col] = None if rate is None else cur + 100 * float(rate)
            rows.append(row)
            notes.append(str(bres))
    df = pl.DataFrame(rows, schema={"measure": pl.Utf8, f"{a}_on_{b}_pct": pl.Float64, f"{b}_on_{a}_pct": pl.Float64, "source": pl.Utf8})
    note = " ".join(n for n in notes if n)
    if missing:
        note += f" Not computed ({UNAVAILABLE}): " + "; ".join(missing) + "."
    return SectionResult("fairness", "", note=note.strip(), tables={"fairness": df},
                         figures=[Figure("fig-fairness", "Fairness", F.fairness(df, (a, b)),
                                         f"Tariffs each way between {a} and {b}, the USTR formula's rate and the GE balancing tariff.")],
                         data={"rows": df.to_dicts()}, html=_table_html(df, digits=1))


def _call_fairness(fn, a, b, fair, world=None):
    import inspect

    params = inspect.signature(fn).parameters
    kw = {}
    for k, v in (("date", fair.date), ("schedule", fair.schedule), ("world", world), ("a", a), ("b", b), ("pair", (a, b)),
                 ("partner", b), ("importer", a), ("exporter", b)):
        if k in params:
            kw[k] = v
    return fn(**kw)


def _fairness_rows(ft: pl.DataFrame, a: str, b: str) -> list[dict[str, Any]]:
    """Rows of the policy layer's fairness table (``measure, usa_on_jpn, jpn_on_usa, weights, note``; fractions) in percent."""
    ca, cb = f"{a.lower()}_on_{b.lower()}", f"{b.lower()}_on_{a.lower()}"
    out = []
    for r in ft.to_dicts():
        if r.get("measure") == "ge_balancing_tariff":
            continue  # the report computes it on its own GE baseline below
        va, vb = r.get(ca), r.get(cb)
        src = "; ".join(str(r[c]) for c in ("weights", "note") if r.get(c))
        out.append({"measure": str(r["measure"]), f"{a}_on_{b}_pct": None if va is None else 100 * float(va),
                    f"{b}_on_{a}_pct": None if vb is None else 100 * float(vb), "source": src or "policy layer"})
    return out


def _bilateral_goods_trade(ctx: RunContext, a: str, b: str) -> tuple[float | None, float | None]:
    """a's 2024 goods imports from and exports to b (USD): the policy layer's table, else DESIGN's Census numbers."""
    if (a, b) == ("USA", "JPN"):
        return 148.2e9, 79.7e9  # US Census Bureau, trade in goods with Japan, 2024 (DESIGN / issue text)
    return None, None


def _ustr_numbers(r) -> float:
    """The announced rate from what ``ustr_reciprocal_rate`` returns (a fraction, or an object carrying one)."""
    if isinstance(r, (int, float)):
        return float(r)
    for k in ("announced", "announced_rate", "rate"):
        if hasattr(r, k):
            return float(getattr(r, k))
    raise TariffsimError(f"ustr_reciprocal_rate: unexpected result {r!r}")


# --------------------------------------------------------------------------- 8. methods and sources
METHODS_HTML = """
<h3>Models</h3>
<p><b>Multi-sector general equilibrium</b> (Caliendo and Parro 2015, <i>Review of Economic Studies</i> 82(1), eqs. 10-14), in changes
("exact hat algebra"), with input-output links and trade deficits. For importer <i>n</i>, exporter <i>i</i>, sectors <i>j</i>, <i>k</i>:</p>
<pre>
c_hat[i,j] = w_hat[i]^va[i,j] * prod_k P_hat[i,k]^io[i,k,j]
P_hat[n,j] = ( sum_i pi[i,n,j] (tau_hat[i,n,j] c_hat[i,j])^-theta[j] )^(-1/theta[j])
pi1[i,n,j] = pi[i,n,j] (tau_hat c_hat[i,j] / P_hat[n,j])^-theta[j]
X1[n,j]    = sum_k io[n,j,k] sum_m X1[m,k] pi1[n,m,k] / (1 + t1[n,m,k]) + alpha[n,j] I1[n]
I1[n]      = w_hat[n] VA[n] + tariff revenue[n] + D1[n]
W_hat[n]   = (I1[n] / I0[n]) / prod_j P_hat[n,j]^alpha[n,j],   EV[n] = (W_hat[n] - 1) I0[n]
</pre>
<p>Numeraire: world value added. Deficits fixed at baseline (closure <code>fixed</code>) or zero (<code>balanced</code>);
a transfer T from <i>b</i> to <i>a</i> (host-nation support, the grant-equivalent of an investment pledge) sets
D1[a] += T, D1[b] -= T. Every solve reports its residual (table <code>ge_diagnostics</code>); an unconverged solve is an error.</p>
<p><b>Product-level partial equilibrium</b> (SMART-like; Laird and Yeats 1986, Jammes and Olarreaga 2005): exact CES across
sources with substitution elasticity sigma, import demand elasticity epsilon, export supply elasticity eta (default infinite).</p>
<p><b>Strategy</b>: best-response (optimal) tariffs maximise a government's real income with the others' tariffs fixed
(Ossa 2014, <i>AER</i> 104(12)); a Nash war iterates best responses to a fixed point; Nash bargaining maximises
(EV_a - d_a)^beta (EV_b - d_b)^(1-beta) over tariffs and transfers; the Pareto frontier traces the best EV of one
player for each EV of the other. The retaliation variant (one tariff on one partner) is a bounded Brent search over GE solves.</p>
<p><b>USTR April-2025 formula</b>: Delta tau = (m - x) / (epsilon phi m), epsilon = 4, phi = 0.25; announced rate =
max(10%, Delta tau / 2). <b>Effective tariff rate</b>: import-weighted average of the stacked statutory rates (2024 import weights).</p>
<p><b>Uncertainty</b>: Monte Carlo over the trade elasticities; bands are the 5th and 95th percentiles of welfare changes.</p>
"""


def methods_section(ctx: RunContext) -> SectionResult:
    """Methods (equations with sources) and the datasets used with their source and license."""
    names = list(dict.fromkeys(ctx.datasets_used + ["us_tariff_actions_2025", "hts_2025_mfn", "us_imports_japan_2024_hs10",
                                                     "ustr_reciprocal_2025", "elasticities", "japan_tariffs"]))
    rows = []
    for n in names:
        try:
            rec = api.dataset_info(n)
        except TariffsimError:
            continue
        rows.append({"dataset": n, "title": str(rec.get("title", "")), "year": str(rec.get("year", "")),
                     "source": str(rec.get("source", "")), "license": str(rec.get("license", "")),
                     "citation": str(rec.get("citation", ""))})
    df = pl.DataFrame(rows, schema={"dataset": pl.Utf8, "title": pl.Utf8, "year": pl.Utf8, "source": pl.Utf8,
                                    "license": pl.Utf8, "citation": pl.Utf8})
    status = [(r.key, r.title, r.status, r.note) for r in ctx.results.values()]
    unavailable = [f"{t or k}" for k, t, s, _ in status if s == "unavailable"]
    html = METHODS_HTML + "<h3>Data sources</h3>" + _table_html(df.select("dataset", "title", "year", "source", "license"), max_rows=50)
    html += "<h3>References</h3><ul>" + "".join(f"<li>{_esc(r['citation'])}</li>" for r in rows if r["citation"]) + "</ul>"
    note = "" if not unavailable else f"Sections {UNAVAILABLE}: " + ", ".join(unavailable) + "."
    return SectionResult("methods", "", note=note, tables={"sources": df}, data={"datasets": names}, html=html)


def _esc(s: str) -> str:
    from html import escape

    return escape(s)


# --------------------------------------------------------------------------- summary (computed last, shown first)
def summary_section(ctx: RunContext) -> SectionResult:
    """The one-screen summary: headline numbers from the other sections."""
    rows: list[dict[str, Any]] = []
    a, b = _partner_pair(ctx)
    etr = ctx.results.get("etr")
    if etr is not None and etr.status == "ok":
        lt = etr.data["latest"]
        rows.append({"label": f"US effective tariff on {etr.data['partner']} ({_d(lt['date'])})", "value": f"{lt['etr_partner_pct']:.1f}%"})
        rows.append({"label": f"US effective tariff, all imports ({_d(lt['date'])})", "value": f"{lt['etr_all_pct']:.1f}%"})
    for s in ctx.solved.values():
        ia, ib = ctx.baseline.index(a), ctx.baseline.index(b)
        w, ev = s.eq.welfare_hat, s.eq.ev_usd / BN
        rows.append({"label": f"{s.label}: welfare {a} / {b}",
                     "value": f"{100 * (w[ia] - 1):+.3f}% ({_money(ev[ia])}) / {100 * (w[ib] - 1):+.3f}% ({_money(ev[ib])})"})
    fair = ctx.results.get("fairness")
    if fair is not None and fair.status == "ok":
        for r in fair.data["rows"]:
            if r["measure"].startswith(("USTR formula", "GE balancing")):
                v = r[f"{a}_on_{b}_pct"]
                rows.append({"label": r["measure"], "value": "none" if v is None else f"{v:.1f}%"})
    bar = ctx.results.get("bargain")
    if bar is not None and bar.status == "ok":
        pts = {p["kind"]: p for p in bar.data.get("points", [])}
        if "nash_bargaining" in pts:
            p = pts["nash_bargaining"]
            rows.append({"label": f"Nash bargaining solution: EV {a} / {b}", "value": f"{_money(p['x'])} / {_money(p['y'])}"})
        if "headline" in bar.data:
            rows.append({"label": "Deal vs Pareto frontier", "value": bar.data["headline"]})
    unavailable = [r.key for r in ctx.results.values() if r.status == "unavailable"]
    if unavailable:
        rows.append({"label": f"Sections {UNAVAILABLE}", "value": ", ".join(unavailable)})
    df = pl.DataFrame(rows, schema={"label": pl.Utf8, "value": pl.Utf8})
    return SectionResult("summary", "", tables={"summary": df}, data={"rows": rows}, html=_table_html(df), note=ctx.baseline_note)


def _money(bn: float) -> str:
    """USD bn as text: billions above 1bn, millions below."""
    return f"{bn:+,.1f}bn" if abs(bn) >= 1 else f"{1000 * bn:+,.0f}mn"


def _d(x) -> str:
    return x.isoformat() if isinstance(x, (_dt.date,)) else str(x)


#: (key, title, function) in order of computation and presentation (the summary is added first).
SECTIONS = [
    ("etr", "Effective tariff rates, 2024-2025", etr_section),
    ("counterfactuals", "The 2025 tariffs in general equilibrium", counterfactuals_section),
    ("war", "Trade war: retaliation, optimal tariffs and Nash", war_section),
    ("welfare", "Welfare by country, with uncertainty bands", welfare_section),
    ("products", "Top products: US imports from Japan", products_section),
    ("bargain", "The negotiated outcome: Pareto frontier and the deal", bargain_section),
    ("fairness", "Fairness: tariffs each way, the USTR rate and the balancing tariff", fairness_section),
    ("methods", "Methods and sources", methods_section),
]
