"""Helpers shared by the sections: goods sectors, bilateral rates, GE result rows, the pair a report follows."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np

from ..context import RunContext, Solved

BN = 1000.0  # USD mn per USD bn


def goods_mask(world) -> np.ndarray:
    """Goods sectors: those carrying a tariff somewhere in the baseline (services carry none)."""
    g = np.asarray(world.tariffs).max(axis=(0, 1)) > 0
    return g if g.any() else np.ones(world.n_sectors, dtype=bool)


def bilateral_rate(tariffs: np.ndarray, flows: np.ndarray, i: int, j: int, goods: np.ndarray | None = None) -> float:
    """Trade-weighted tariff importer ``j`` levies on ``i`` over ``goods``: sum t w / sum w, ``w = flows[i, j, goods]``."""
    g = slice(None) if goods is None else goods
    w = flows[i, j, g]
    return float((tariffs[i, j, g] * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def ge_rows(s: Solved) -> list[dict[str, Any]]:
    """One row per region: welfare, EV, wages, trade and revenue changes of a solved counterfactual."""
    rows = []
    for r in s.eq.summary().to_dicts():
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
    g = goods_mask(baseline)
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


def partner_pair(ctx: RunContext) -> tuple[str, str]:
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


def money(bn: float) -> str:
    """USD bn as text: billions above 1bn, millions below."""
    return f"{bn:+,.1f}bn" if abs(bn) >= 1 else f"{1000 * bn:+,.0f}mn"


def fmt_bn(x) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:+,.1f} USD bn"


def num(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(float(x)) else f"{float(x):.{digits}f}"


def iso(x) -> str:
    return x.isoformat() if isinstance(x, (_dt.date,)) else str(x)
