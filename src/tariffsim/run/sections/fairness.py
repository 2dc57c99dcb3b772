"""Section: tariffs each way, the USTR formula's rate and the GE balancing tariff."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ... import api
from .. import quantities as Q
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView
from .common import bilateral_rate, goods_mask

def fairness_section(ctx: RunContext) -> SectionResult:
    """GE-sector averages each way, the policy layer's fairness table, the USTR formula and the balancing tariff."""
    fair = ctx.scenario.fairness
    if fair is None:
        return SectionResult.skipped("fairness", "", "The scenario has no fairness settings.")
    a, b = fair.pair
    base = ctx.baseline
    ia, ib = base.index(a), base.index(b)
    f0, t0 = np.asarray(base.flows), np.asarray(base.tariffs)
    goods = goods_mask(base)
    rows = [
        {"measure": "GE baseline, trade-weighted (goods)", f"{a}_on_{b}_pct": 100 * bilateral_rate(t0, f0, ib, ia, goods),
         f"{b}_on_{a}_pct": 100 * bilateral_rate(t0, f0, ia, ib, goods), "source": f"{ctx.world.name}, GE baseline tariffs"},
        {"measure": "GE baseline, simple average (goods sectors)", f"{a}_on_{b}_pct": 100 * float(t0[ib, ia, goods].mean()),
         f"{b}_on_{a}_pct": 100 * float(t0[ia, ib, goods].mean()), "source": f"{ctx.world.name}, GE baseline tariffs"},
    ]
    notes = []
    rows.extend(policy_rows(api.fairness_table(ctx.world, schedule=fair.schedule, date=fair.date), a, b))
    if not any(r["measure"].startswith("USTR") for r in rows) and a == "USA":
        try:
            m_bn, x_bn = Q.census_goods_trade(b)
        except KeyError:
            m_bn = None
        if m_bn:
            rows.append({"measure": "USTR formula", f"{a}_on_{b}_pct": Q.ustr_rate(a, b).value,
                         f"{b}_on_{a}_pct": 100 * (m_bn - x_bn) / m_bn,
                         "source": f"{a}: announced max(10%, half of Delta tau); {b}: Delta tau = (m - x) / (4 x 0.25 x m), "
                                   f"m = {m_bn:.1f}bn, x = {x_bn:.1f}bn (2024 Census goods)"})
    bal = Q.balancing_tariff(ctx)
    qs = []
    if bal is not None:
        level, addition, gd, bres = bal
        spec = ctx.scenario.strategy.balancing
        col = f"{spec.importer}_on_{spec.exporter}_pct"
        row = {"measure": "GE balancing tariff", f"{a}_on_{b}_pct": None, f"{b}_on_{a}_pct": None,
               "source": (f"{level.label}: {level.text()} = current + {addition.value:.1f} pp on "
                          f"{len(bres.taxed_sectors)} goods sectors zeroes the bilateral goods deficit"
                          if level.value is not None else f"none exists: {bres.reason}")}
        if col in row:
            row[col] = level.value
        rows.append(row)
        qs += [level, addition, gd]
        notes.append(f"{level.label}: {level.text()} ({addition.text()}); {gd.label}: {gd.text()}.")
    if (a, b) == ("USA", "JPN") or a == "USA":
        try:
            ur, dc = Q.ustr_rate(a, b), Q.deficit_census_2024(a, b)
        except KeyError:
            ur = dc = None
        if ur is not None:
            qs += [ur, dc]
            notes.append(f"{ur.label}: {ur.text()}; {dc.label}: {dc.text()}.")
    df = pl.DataFrame(rows, schema={"measure": pl.Utf8, f"{a}_on_{b}_pct": pl.Float64, f"{b}_on_{a}_pct": pl.Float64,
                                    "source": pl.Utf8})
    note = " ".join(n for n in notes if n)
    return SectionResult("fairness", "", note=note.strip(), tables={"fairness": df},
                         figures=[FigureSpec("fig-fairness", "Fairness", "fairness", df, {"pair": (a, b)},
                                             f"Tariffs each way between {a} and {b}, the USTR formula's rate and the GE "
                                             "balancing tariff.")],
                         views=[TableView(df, digits=1)], data={"rows": df.to_dicts(), "quantities": Q.quantities_data(*qs)})


def policy_rows(ft: pl.DataFrame, a: str, b: str) -> list[dict[str, Any]]:
    """Rows of the policy layer's fairness table (``measure, usa_on_jpn, jpn_on_usa, weights, note``; fractions) in percent.

    Its empty ``ge_balancing_tariff`` row is dropped: the section computes that on its own GE baseline.
    """
    ca, cb = f"{a.lower()}_on_{b.lower()}", f"{b.lower()}_on_{a.lower()}"
    out = []
    for r in ft.to_dicts():
        if r.get("measure") == "ge_balancing_tariff":
            continue
        va, vb = r.get(ca), r.get(cb)
        src = "; ".join(str(r[c]) for c in ("weights", "note") if r.get(c))
        out.append({"measure": str(r["measure"]), f"{a}_on_{b}_pct": None if va is None else 100 * float(va),
                    f"{b}_on_{a}_pct": None if vb is None else 100 * float(vb), "source": src or "policy layer"})
    return out
