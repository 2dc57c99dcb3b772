"""What the dashboard computes, without streamlit: slider settings -> GE outcome numbers.

The dashboard starts from the same place as the report: the scenario's GE baseline (its
world re-solved at the scenario's baseline schedule) and one of the scenario's
counterfactuals (default: the last one built from a schedule alone, the Japan deal in the
bundled scenario), computed by the same :class:`tariffsim.run.RunContext`. With the
sliders at their start values the numbers *are* the report's for that counterfactual;
moving a slider overrides only the US tariffs on Japan (autos, other goods), adds
Japanese retaliation or a Japan -> US transfer, or scales every trade elasticity.

Imports :mod:`tariffsim.api` and :mod:`tariffsim.run` only. Each call is one warm-started
GE solve (tens of milliseconds once compiled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import api
from ..errors import DataError, ScenarioError
from ..run import RunContext, Solved, as_scenario
from ..run.sections.common import bilateral_row

BN = 1000.0
AUTOS = ("20",)  # ICIO 2017: motor vehicles, trailers and semi-trailers
BASELINE = "baseline"


@dataclass(frozen=True)
class Settings:
    """Slider values (percent / USD bn / factor); ``None`` tariffs keep the start counterfactual's rates."""

    us_autos_pct: float | None = None    # US tariff on Japanese autos (set, all-in)
    us_other_pct: float | None = None    # US tariff on other Japanese goods (set, all-in)
    retaliation_pct: float = 0.0         # Japan's extra tariff on US goods (added)
    transfer_usd_bn: float = 0.0         # Japan -> US lump-sum transfer per year, on top of the start's
    elasticity_scale: float = 1.0        # multiplies every trade elasticity


@dataclass(frozen=True)
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


def pareto_frontier(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points not dominated in (x, y), both maximised, sorted by x.

    Point k is dominated when another point has x >= x_k and y >= y_k with one strict.

    >>> pareto_frontier(np.array([0., 1., 2., 1.]), np.array([2., 1., 0., 0.5])).tolist()
    [0, 1, 2]
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    order = np.lexsort((-y, -x))             # x descending, ties: y descending
    keep, best_y = [], -np.inf
    for k in order:
        if y[k] > best_y:
            keep.append(int(k))
            best_y = y[k]
    return np.array(sorted(keep, key=lambda k: x[k]), dtype=int)


def metric_cards(o: Outcome) -> list[dict[str, str | None]]:
    """Label, value and delta strings of the headline metrics.

    Every ``delta`` is ``None`` or a signed number that starts with ``+`` or ``-`` (ASCII),
    so streamlit's arrow points the way the number goes (a delta like "US exports -4%" got
    an up arrow before).
    """
    def signed(x: float, fmt: str) -> str:
        return ("-" if x < 0 else "+") + format(abs(x), fmt)

    u, j = o.ev_usd_bn["USA"], o.ev_usd_bn["JPN"]
    return [
        {"label": "Japan welfare (EV, USD bn/yr)", "value": signed(j, ",.2f"), "delta": signed(o.welfare_pct["JPN"], ".3f") + "%"},
        {"label": "US welfare (EV, USD bn/yr)", "value": signed(u, ",.2f"), "delta": signed(o.welfare_pct["USA"], ".3f") + "%"},
        {"label": "US imports from Japan, change", "value": signed(o.us_imports_from_jpn_change_pct, ".2f") + "%", "delta": None},
        {"label": "US exports to Japan, change", "value": signed(o.us_exports_to_jpn_change_pct, ".2f") + "%", "delta": None},
        {"label": "US tariff revenue (USD bn/yr)", "value": f"{o.us_tariff_revenue_usd_bn:,.1f}",
         "delta": signed(o.us_tariff_revenue_change_usd_bn, ",.2f")},
    ]


class DashboardModel:
    """The scenario's baseline and start counterfactual plus a cached, warm-started solve per setting."""

    def __init__(self, scenario=None, *, start: str | None = None) -> None:
        self.ctx = RunContext(as_scenario(scenario))
        self.ctx.load()
        b = self.baseline = self.ctx.baseline
        missing = [r for r in ("USA", "JPN") if r not in b.regions]
        if missing:
            raise DataError(f"the dashboard needs a world with USA and JPN; {b.name!r} has no {', '.join(missing)}")
        self.usa, self.jpn = b.index("USA"), b.index("JPN")
        f = np.asarray(b.flows) * (1 - np.eye(b.n_regions))[:, :, None]
        self.goods = [s for s, tot in zip(b.sectors, f.sum(axis=(0, 1))) if tot > 0 and int(s) <= 22] if all(
            s.isdigit() for s in b.sectors) else list(b.sectors)
        self.autos = [s for s in AUTOS if s in b.sectors]
        self.other = [s for s in self.goods if s not in self.autos]
        self.goods_idx = np.array([b.sectors.index(x) for x in self.goods], dtype=int)
        self.starts = [BASELINE] + [c.name for c in self.ctx.scenario.counterfactuals]
        self._cache: dict[tuple[str, Settings], Outcome] = {}
        self._last = None
        self.start = self.default_start() if start is None else start
        self.set_start(self.start)

    # ---- start point
    def default_start(self) -> str:
        """The last counterfactual built from a schedule alone (no base, measures or transfers), else the baseline."""
        plain = [c.name for c in self.ctx.scenario.counterfactuals
                 if c.schedule is not None and not c.base and not c.measures and not c.transfers]
        return plain[-1] if plain else BASELINE

    def set_start(self, name: str) -> None:
        if name not in self.starts:
            raise ScenarioError(f"dashboard start {name!r} is not a counterfactual of the scenario; "
                                f"choose from {', '.join(self.starts)}")
        self.start = name
        self._start: Solved | None = None if name == BASELINE else self.ctx.counterfactual(name)

    @property
    def start_label(self) -> str:
        return "the baseline" if self._start is None else f"{self._start.label} ({self._start.name})"

    def baseline_statement(self) -> str:
        """One paragraph saying what every number is relative to and where the sliders start."""
        spec = None if self._start is None else self._start.meta.get("spec")
        where = ("" if spec is None or spec.schedule is None else
                 f" (schedule {spec.schedule!r} on {spec.date.isoformat()}, tariffs on all partners)")
        return (f"{self.ctx.baseline_note} Sliders start at the report's counterfactual {self.start_label}{where}; "
                f"at those values every number equals the report's for the same scenario "
                f"({self.ctx.scenario.name}). Changes are relative to the baseline, EV in USD bn per year.")

    def start_rates_pct(self) -> tuple[float, float]:
        """Trade-weighted US tariffs on Japanese autos and other goods at the start (percent, baseline flows)."""
        t = self._start_tariffs()
        f = np.asarray(self.baseline.flows)[self.jpn, self.usa]
        out = []
        for secs in (self.autos, self.other):
            idx = [self.baseline.sectors.index(s) for s in secs]
            w = f[idx]
            out.append(100 * float((t[self.jpn, self.usa, idx] * w).sum() / w.sum()) if w.sum() > 0 else 0.0)
        return out[0], out[1]

    def _start_tariffs(self) -> np.ndarray:
        return np.array(self.baseline.tariffs if self._start is None else self._start.tariffs, dtype=float)

    # ---- solve
    def tariffs(self, s: Settings) -> np.ndarray:
        b = self.baseline
        t = self._start_tariffs()
        if self.autos and s.us_autos_pct is not None:
            t = b.tariffs_with(importer="USA", exporter="JPN", sectors=self.autos, set=s.us_autos_pct / 100, base=t)
        if s.us_other_pct is not None:
            t = b.tariffs_with(importer="USA", exporter="JPN", sectors=self.other, set=s.us_other_pct / 100, base=t)
        if s.retaliation_pct:
            t = b.tariffs_with(importer="JPN", exporter="USA", sectors=self.goods, add=s.retaliation_pct / 100, base=t)
        return t

    def is_start(self, s: Settings) -> bool:
        return s == Settings()

    def solve(self, s: Settings) -> Outcome:
        key = (self.start, s)
        if key in self._cache:
            return self._cache[key]
        b = self.baseline
        t = self.tariffs(s)
        if self.is_start(s) and self._start is not None:
            eq = self._start.eq                                     # the report's own equilibrium
        else:
            closure = self.ctx.scenario.model.ge.closure if self._start is None else self._start.eq.closure
            transfers = list(self._start.meta.get("transfers", [])) if self._start is not None else []
            if s.transfer_usd_bn:
                transfers.append(("JPN", "USA", float(s.transfer_usd_bn), "dashboard transfer"))
            deficits = self.ctx.deficits(closure, transfers)
            theta = np.asarray(b.theta) * s.elasticity_scale
            warm = self._last.wage_hat if self._last is not None else (
                None if self._start is None else self._start.eq.wage_hat)
            eq = api.solve(b, tariffs=t, deficits=deficits, closure=closure, theta=theta, initial_wage_hat=warm)
        self._last = eq
        out = self._outcome(s, t, eq)
        if len(self._cache) > 512:
            self._cache.clear()
        self._cache[key] = out
        return out

    def _outcome(self, s: Settings, t: np.ndarray, eq) -> Outcome:
        b = self.baseline
        f0, f1 = np.asarray(b.flows), np.asarray(eq.flows)
        u, j = self.usa, self.jpn
        g = self.goods_idx
        gw0, gw1 = f0[j, u][g], f1[j, u][g]
        # the report's own definitions of the bilateral quantities (tariffs, trade, revenue)
        row = bilateral_row(Solved("dashboard", "dashboard", "dashboard", t, None, eq), b, "USA", "JPN")
        return Outcome(
            settings=s,
            welfare_pct={r: 100 * (float(x) - 1) for r, x in zip(b.regions, eq.welfare_hat)},
            ev_usd_bn={r: float(x) / BN for r, x in zip(b.regions, eq.ev_usd)},
            us_imports_from_jpn_change_pct=row["USA_imports_from_JPN_change_pct"],
            us_exports_to_jpn_change_pct=row["USA_exports_to_JPN_change_pct"],
            us_tariff_revenue_usd_bn=row["USA_tariff_revenue_usd_bn"],
            us_tariff_revenue_change_usd_bn=row["USA_tariff_revenue_usd_bn"] - float(b.tariff_revenue_usd[u]) / BN,
            etr_us_on_jpn_pct=100 * float((t[j, u, g] * gw0).sum() / gw0.sum()),
            etr_us_on_jpn_post_pct=100 * float((t[j, u, g] * gw1).sum() / gw1.sum()),
            etr_base_pct=100 * float((np.asarray(b.tariffs)[j, u, g] * gw0).sum() / gw0.sum()),
            residual=float(eq.residual),
        )

    def frontier_points(self, s: Settings, points: int = 5, top_pct: float = 50.0) -> list[dict[str, float]]:
        """(EV_USA, EV_JPN) over a grid: US tariff on all Japanese goods x Japan's retaliation, each 0..top_pct.

        Transfer and elasticity scale as in ``s``. Each row carries ``pareto`` (True when no
        other grid point makes both countries better off, :func:`pareto_frontier`).
        """
        rows = []
        for r_us in np.linspace(0.0, top_pct, points):
            for r_jp in np.linspace(0.0, top_pct, points):
                o = self.solve(Settings(float(r_us), float(r_us), float(r_jp), s.transfer_usd_bn, s.elasticity_scale))
                rows.append({"us_tariff_pct": float(r_us), "retaliation_pct": float(r_jp),
                             "ev_USA_usd_bn": o.ev_usd_bn["USA"], "ev_JPN_usd_bn": o.ev_usd_bn["JPN"], "pareto": False})
        front = pareto_frontier(np.array([p["ev_USA_usd_bn"] for p in rows]), np.array([p["ev_JPN_usd_bn"] for p in rows]))
        for k in front:
            rows[k]["pareto"] = True
        return rows
