"""What the dashboard computes, without streamlit: slider settings -> GE outcome numbers.

Imports only :mod:`tariffsim.api`. The baseline is the scenario's GE baseline
(default: the US-Japan 2025 bundle's world re-solved at the 2024 US tariffs).
Each call is one warm-started GE solve (tens of milliseconds once compiled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import api

BN = 1000.0
AUTOS = ("20",)  # ICIO 2017: motor vehicles, trailers and semi-trailers


@dataclass(frozen=True)
class Settings:
    """Slider values (percent / USD bn / factor)."""

    us_autos_pct: float = 15.0      # US tariff on Japanese autos (set, all-in)
    us_other_pct: float = 15.0      # US tariff on other Japanese goods (set, all-in)
    retaliation_pct: float = 0.0    # Japan's extra tariff on US goods (added)
    transfer_usd_bn: float = 0.0    # Japan -> US lump-sum transfer per year
    elasticity_scale: float = 1.0   # multiplies every trade elasticity


@dataclass
class Outcome:
    settings: Settings
    welfare_pct: dict[str, float]
    ev_usd_bn: dict[str, float]
    us_imports_from_jpn_change_pct: float
    us_exports_to_jpn_change_pct: float
    us_tariff_revenue_usd_bn: float
    us_tariff_revenue_change_usd_bn: float
    etr_us_on_jpn_pct: float            # goods, trade-weighted at baseline flows (pre-substitution)
    etr_us_on_jpn_post_pct: float       # trade-weighted at new flows (post-substitution)
    etr_base_pct: float
    residual: float
    extra: dict[str, Any] = field(default_factory=dict)


class DashboardModel:
    """A baseline plus a cached, warm-started solve per slider setting."""

    def __init__(self, baseline=None, *, scenario=None) -> None:
        self.baseline = baseline if baseline is not None else api.scenario_baseline(scenario)
        b = self.baseline
        self.usa, self.jpn = b.index("USA"), b.index("JPN")
        f = np.asarray(b.flows) * (1 - np.eye(b.n_regions))[:, :, None]
        self.goods = [s for s, tot in zip(b.sectors, f.sum(axis=(0, 1))) if tot > 0 and int(s) <= 22] if all(
            s.isdigit() for s in b.sectors) else list(b.sectors)
        self.autos = [s for s in AUTOS if s in b.sectors]
        self.other = [s for s in self.goods if s not in self.autos]
        self.goods_idx = np.array([b.sectors.index(x) for x in self.goods], dtype=int)
        self._last = None
        self._cache: dict[Settings, Outcome] = {}

    def tariffs(self, s: Settings) -> np.ndarray:
        b = self.baseline
        t = np.array(b.tariffs, dtype=float)
        if self.autos:
            t = b.tariffs_with(importer="USA", exporter="JPN", sectors=self.autos, set=s.us_autos_pct / 100, base=t)
        t = b.tariffs_with(importer="USA", exporter="JPN", sectors=self.other, set=s.us_other_pct / 100, base=t)
        if s.retaliation_pct:
            t = b.tariffs_with(importer="JPN", exporter="USA", sectors=self.goods, add=s.retaliation_pct / 100, base=t)
        return t

    def solve(self, s: Settings) -> Outcome:
        if s in self._cache:
            return self._cache[s]
        b = self.baseline
        t = self.tariffs(s)
        deficits = None
        if s.transfer_usd_bn:
            d = np.array(b.deficit_usd, dtype=float)
            d[self.usa] += s.transfer_usd_bn * BN
            d[self.jpn] -= s.transfer_usd_bn * BN
            deficits = d
        theta = np.asarray(b.theta) * s.elasticity_scale
        warm = None if self._last is None else self._last.wage_hat
        eq = api.solve(b, tariffs=t, deficits=deficits, theta=theta, initial_wage_hat=warm)
        self._last = eq
        f0, f1 = np.asarray(b.flows), np.asarray(eq.flows)
        u, j = self.usa, self.jpn
        g = self.goods_idx
        w0, w1 = f0[j, u], f1[j, u]
        gw0, gw1 = w0[g], w1[g]
        out = Outcome(
            settings=s,
            welfare_pct={r: 100 * (float(x) - 1) for r, x in zip(b.regions, eq.welfare_hat)},
            ev_usd_bn={r: float(x) / BN for r, x in zip(b.regions, eq.ev_usd)},
            us_imports_from_jpn_change_pct=100 * (w1.sum() / w0.sum() - 1),
            us_exports_to_jpn_change_pct=100 * (f1[u, j].sum() / f0[u, j].sum() - 1),
            us_tariff_revenue_usd_bn=float(eq.tariff_revenue[u]) / BN,
            us_tariff_revenue_change_usd_bn=float(eq.tariff_revenue[u] - b.tariff_revenue_usd[u]) / BN,
            etr_us_on_jpn_pct=100 * float((t[j, u, g] * gw0).sum() / gw0.sum()),
            etr_us_on_jpn_post_pct=100 * float((t[j, u, g] * gw1).sum() / gw1.sum()),
            etr_base_pct=100 * float((np.asarray(b.tariffs)[j, u, g] * gw0).sum() / gw0.sum()),
            residual=float(eq.residual),
        )
        if len(self._cache) > 512:
            self._cache.clear()
        self._cache[s] = out
        return out

    def tariff_curve(self, s: Settings, points: int = 11, top_pct: float = 50.0) -> list[dict[str, float]]:
        """(EV_USA, EV_JPN) as the US tariff on all Japanese goods runs 0..top_pct, other sliders fixed."""
        rows = []
        for r in np.linspace(0.0, top_pct, points):
            o = self.solve(Settings(float(r), float(r), s.retaliation_pct, s.transfer_usd_bn, s.elasticity_scale))
            rows.append({"us_tariff_pct": float(r), "ev_USA_usd_bn": o.ev_usd_bn["USA"], "ev_JPN_usd_bn": o.ev_usd_bn["JPN"]})
        return rows
