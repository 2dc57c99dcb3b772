"""One function per headline quantity of a run, each with its basis in its label.

A number the report shows in more than one place (the summary, a section, the dashboard)
comes from one of these functions, so it is the same everywhere; its label says what it
is measured on (2024 Census goods trade vs the 2017 GE world; a level vs a change).
Sections put the quantities they show into ``data["quantities"]`` (``key -> value, unit,
basis, label``); ``tests/test_report_browser.py`` asserts that a key appearing in two
sections of ``results.json`` has one value.

Expensive quantities (the GE balancing tariff) are computed once per run and cached on
the :class:`~tariffsim.run.RunContext`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from .. import api
from .context import RunContext

BN = 1000.0          # USD mn per USD bn
CENSUS = "2024 Census goods trade"
GE_WORLD = "2017 GE world"


@dataclass(frozen=True)
class Quantity:
    """A number with its unit, its basis (data and year, level or change) and a label that says both."""

    key: str
    value: float | None
    unit: str            # "USD bn per year", "percent", "percentage points"
    basis: str
    label: str

    def text(self) -> str:
        if self.value is None:
            return "none"
        if self.unit == "percent":
            return f"{self.value:.1f}%"
        if self.unit == "percentage points":
            return f"{self.value:+.1f} pp"
        return f"{self.value:,.1f} USD bn per year" if self.value >= 0 else f"{self.value:+,.1f} USD bn per year"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ge_world(ctx: RunContext) -> str:
    """The GE basis a label names: :data:`GE_WORLD` (Caliendo-Parro), else the model family and its world."""
    return GE_WORLD if ctx.model is None else f"{ctx.family} model, {ctx.world.name}"


def _cache(ctx: RunContext) -> dict[str, Any]:
    return ctx.quantities


def census_goods_trade(b: str = "JPN") -> tuple[float, float]:
    """US goods imports from and exports to ``b`` in 2024 (USD bn), the USTR formula's inputs.

    Source: ``ustr_reciprocal_2025`` (Census Bureau 2024 goods trade, as used by USTR in April 2025).
    """
    t = api.read_table("ustr_reciprocal_2025", "formula").filter(pl.col("iso3") == b)
    if t.height == 0:
        raise KeyError(b)
    r = t.row(0, named=True)
    return float(r["imports_usd_m"]) / BN, float(r["exports_usd_m"]) / BN


def deficit_census_2024(a: str = "USA", b: str = "JPN") -> Quantity:
    """``a``'s goods trade deficit with ``b`` in 2024 (Census), a level: imports minus exports."""
    m, x = census_goods_trade(b)
    return Quantity(f"deficit_{a}_{b}_census_2024", m - x, "USD bn per year", f"{CENSUS}, level",
                    f"{a} goods deficit with {b}, 2024 Census (level)")


def deficit_ge_baseline(ctx: RunContext, a: str, b: str) -> Quantity:
    """``a``'s bilateral deficit with ``b`` over all sectors in the GE baseline (2017 world), a level.

    The goods-only deficit the balancing tariff removes is part of :func:`balancing_tariff`.
    """
    base = ctx.baseline
    ia, ib = base.index(a), base.index(b)
    f = np.asarray(base.flows)
    d = float(f[ib, ia].sum() - f[ia, ib].sum()) / BN
    if ctx.model is None:
        basis, cover = f"{GE_WORLD} ({ctx.world.name})", "goods and services"
    else:                                    # world_2023_aggregate (ilms2025) is BACI goods trade
        basis, cover = ge_world(ctx), "every sector of the world"
    return Quantity(f"deficit_{a}_{b}_ge_baseline", d, "USD bn per year", f"{basis}, {cover}, level",
                    f"{a} deficit with {b}, {cover}, GE baseline ({ge_world(ctx)}, level)")


def ustr_rate(a: str = "USA", b: str = "JPN") -> Quantity:
    """The USTR April-2025 announced rate on ``b``: max(10%, ceil(dtau / 2)), dtau = (m - x) / (4 x 0.25 x m), 2024 Census goods."""
    m, x = census_goods_trade(b)
    r = 100 * float(api.ustr_reciprocal_rate(m * 1e9, x * 1e9))
    return Quantity(f"ustr_rate_{a}_on_{b}", r, "percent", f"{CENSUS}, announced rate",
                    f"USTR formula rate, {a} on {b} (announced; {CENSUS})")


def balancing_tariff(ctx: RunContext) -> tuple[Quantity, Quantity, Quantity, Any] | None:
    """The GE balancing tariff: (level, addition in pp, the goods deficit it removes, the result), or None.

    Level = current trade-weighted goods rate + the uniform addition that zeroes the bilateral
    goods deficit in the GE baseline (2017 world); computed once per run.
    """
    spec = ctx.scenario.strategy.balancing
    if spec is None or not spec.enabled:
        return None
    cache = _cache(ctx)
    if "balancing" not in cache:
        base = ctx.baseline
        bres = api.balancing_tariff(base, spec.importer, spec.exporter, closure=ctx.scenario.model.ge.closure)
        f0, t0 = np.asarray(base.flows), np.asarray(base.tariffs)
        g = t0.max(axis=(0, 1)) > 0
        ie, ii = base.index(spec.exporter), base.index(spec.importer)
        w = f0[ie, ii, g]
        cur = 100 * float((t0[ie, ii, g] * w).sum() / w.sum())
        add = 100 * float(bres.tariff_rate) if bres.exists else None
        basis = f"{GE_WORLD} ({ctx.world.name}), goods deficit, {bres.closure} deficits"
        key = f"balancing_tariff_{spec.importer}_on_{spec.exporter}"
        level = Quantity(key, None if add is None else cur + add, "percent", basis + ", level",
                         f"GE balancing tariff, {spec.importer} on {spec.exporter} (level: current {cur:.1f}% + addition; "
                         f"{GE_WORLD})")
        extra = Quantity(key + "_addition", add, "percentage points", basis + ", change",
                         f"GE balancing tariff, addition to the current rate ({GE_WORLD})")
        gd = Quantity(f"deficit_{spec.importer}_{spec.exporter}_ge_baseline_goods", float(bres.baseline_deficit_usd) / BN,
                      "USD bn per year", f"{basis}, level",
                      f"{spec.importer} goods deficit with {spec.exporter}, GE baseline ({GE_WORLD}, level)")
        cache["balancing"] = (level, extra, gd, bres)
    return cache["balancing"]


def counterfactual_ev(ctx: RunContext, name: str, region: str) -> Quantity:
    """Equivalent variation of ``region`` in a solved counterfactual (USD bn per year; change vs the GE baseline)."""
    s = ctx.counterfactual(name)
    ev = float(s.eq.ev_usd[ctx.baseline.index(region)]) / BN
    return Quantity(f"ev_{region}_{name}", ev, "USD bn per year", f"{ge_world(ctx)}, change vs the GE baseline",
                    f"{s.label}: {region} welfare (EV, change vs baseline, {ge_world(ctx)})")


def quantities_data(*qs: Quantity | None) -> dict[str, dict[str, Any]]:
    """``{key: quantity as dict}`` for a section's ``data["quantities"]``."""
    return {q.key: q.as_dict() for q in qs if q is not None}


__all__ = ["Quantity", "ge_world", "census_goods_trade", "deficit_census_2024", "deficit_ge_baseline", "ustr_rate", "balancing_tariff",
           "counterfactual_ev", "quantities_data"]
