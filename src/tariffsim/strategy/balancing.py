"""The GE balancing tariff: the uniform additional tariff that zeroes a bilateral deficit in general equilibrium.

The importer adds one rate ``r`` to its current tariffs on the exporter's goods
(the sectors that carry a tariff somewhere; ``sectors=`` to choose) and the
Caliendo-Parro equilibrium is re-solved. The bilateral deficit

    B(r) = sum_s flows1[exporter, importer, s] - sum_s flows1[importer, exporter, s]

(pre-tariff values, over goods or all sectors) is traced on a grid of ``r`` in
``bounds``; a sign change is refined by Brent's method (each evaluation a full GE
solve). When ``B`` keeps its sign the answer is that no balancing tariff exists
in the admissible range, with the reason: the closure pins the balance (two
countries with fixed deficits: the bilateral balance *is* the overall balance),
or ``B`` is bounded away from zero (imports from untaxed sectors, and exports
falling with the partner's income, keep it positive), or ``B`` is not monotone.

The USTR April-2025 formula ``Δτ = (m − x) / (ε φ m)`` with ``ε = 4``, ``φ = 0.25``
is the partial-equilibrium analogue (imports fall by ``ε φ Δτ m``, exports held
fixed); ``ustr_formula_rate`` reports it on the same world's flows for comparison.

References
----------
Caliendo, L. and F. Parro (2015), REStud 82(1) (the GE model).
USTR (2025), "Reciprocal Tariff Calculations" (the formula and its parameters).
Brent, R. P. (1973), Algorithms for Minimization without Derivatives, ch. 4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from scipy.optimize import brentq

from ..errors import ConvergenceError, DataError, ScenarioError
from ..models.ge import Equilibrium, rebase_world, solve
from ..world import World
from .bargain import goods_sectors

USTR_EPSILON = 4.0
USTR_PHI = 0.25


@dataclass(frozen=True, eq=False)
class BalancingTariffResult:
    """A GE balancing tariff, or the finding that none exists in ``bounds`` (``exists=False``, ``reason``).

    ``tariff_rate`` (alias ``rate``) is the uniform rate *added* to the importer's
    current tariffs on the exporter's taxed sectors. Money in USD mn; deficits are the
    importer's bilateral imports minus exports with the exporter (pre-tariff values).
    ``grid_rates`` / ``grid_deficits_usd`` trace ``B(r)``.
    """

    importer: str
    exporter: str
    closure: str
    taxed_sectors: tuple[str, ...]
    balance_sectors: tuple[str, ...]
    exists: bool
    tariff_rate: float | None
    baseline_deficit_usd: float
    deficit_at_rate_usd: float | None
    grid_rates: np.ndarray
    grid_deficits_usd: np.ndarray
    monotone: bool
    reason: str
    ustr_formula_rate: float
    equilibrium: Equilibrium | None
    bounds: tuple[float, float]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.tariff_rate

    @property
    def note(self) -> str:
        return self.reason

    @property
    def message(self) -> str:
        return str(self)

    @property
    def ev_usd(self) -> np.ndarray | None:
        return None if self.equilibrium is None else np.asarray(self.equilibrium.ev_usd)

    def summary(self):
        """Tidy table (polars) of the traced bilateral deficit ``B(r)``."""
        import polars as pl

        return pl.DataFrame({"additional_tariff": self.grid_rates, "bilateral_deficit_usd_mn": self.grid_deficits_usd})

    def __str__(self) -> str:
        head = (f"GE balancing tariff of {self.importer} on {self.exporter} (closure={self.closure}, "
                f"baseline bilateral deficit {self.baseline_deficit_usd:,.0f} USD mn): ")
        if self.exists:
            return head + (f"+{100 * self.tariff_rate:.2f} percentage points on {len(self.taxed_sectors)} sectors "
                           f"(USTR formula on the same flows: {100 * self.ustr_formula_rate:.1f}%)")
        return head + f"none in [{self.bounds[0]:g}, {self.bounds[1]:g}]: {self.reason}"

    __repr__ = __str__


def _bilateral_deficit(flows: np.ndarray, i_imp: int, i_exp: int, bal: np.ndarray) -> float:
    return float(flows[i_exp, i_imp, bal].sum() - flows[i_imp, i_exp, bal].sum())


def balancing_tariff(
    world: World,
    importer: str = "USA",
    exporter: str = "JPN",
    *,
    closure: str = "fixed",
    sectors: Sequence[str] | None = None,
    balance: str = "goods",
    bounds: tuple[float, float] = (0.0, 10.0),
    n_grid: int = 40,
    xtol: float = 1e-10,
) -> BalancingTariffResult:
    """The uniform additional tariff of ``importer`` on ``exporter`` that zeroes their bilateral deficit in GE.

    Parameters
    ----------
    world : baseline World (its tariffs are the status quo).
    importer, exporter : region codes; the deficit is the importer's imports from minus exports to the exporter.
    closure : ``"fixed"`` (deficits at their data values: the default, as the question is about the actual
        deficit) or ``"balanced"`` (overall deficits purged first; the bilateral one can remain).
    sectors : sectors taxed (default: the goods sectors, those carrying a tariff somewhere).
    balance : ``"goods"`` (deficit over goods sectors, as the USTR formula) or ``"all"`` (incl. services).
    bounds : admissible range of the additional rate (fractions), default 0-1000%.
    n_grid : grid points on which ``B(r)`` is traced before refining a sign change.

    Returns
    -------
    BalancingTariffResult with ``exists``, ``tariff_rate`` and ``reason`` when none exists.

    Raises
    ------
    ScenarioError on invalid options; ConvergenceError when a GE solve fails.
    """
    if closure not in ("fixed", "balanced"):
        raise ScenarioError(f"closure must be 'fixed' or 'balanced', got {closure!r}")
    if balance not in ("goods", "all"):
        raise ScenarioError(f"balance must be 'goods' or 'all', got {balance!r}")
    lo, hi = (float(b) for b in bounds)
    if not (lo > -1.0 and hi > lo and np.isfinite(hi)):
        raise ScenarioError(f"bounds must satisfy -1 < lower < upper < inf, got {bounds!r}")
    if int(n_grid) < 3:
        raise ScenarioError("n_grid: need at least 3 points")
    i_imp, i_exp = world.index(importer), world.index(exporter)
    if i_imp == i_exp:
        raise ScenarioError("importer and exporter must differ")
    base = rebase_world(world, closure="balanced") if closure == "balanced" and np.abs(world.deficit_usd).max() > 0 else world
    goods = goods_sectors(base)
    taxed = tuple(goods if sectors is None else (str(s) for s in sectors))
    tax_idx = base.sector_index(list(taxed))
    bal_sec = goods if balance == "goods" else tuple(base.sectors)
    bal_idx = base.sector_index(list(bal_sec))
    t0 = np.asarray(base.tariffs, dtype=float)
    if (t0[i_exp, i_imp, tax_idx] + lo <= -1).any():
        raise ScenarioError(f"bounds: lower bound {lo:g} takes a tariff to -100% or below")

    f0 = np.asarray(base.flows)
    m0, x0 = float(f0[i_exp, i_imp, bal_idx].sum()), float(f0[i_imp, i_exp, bal_idx].sum())
    ustr = (m0 - x0) / (USTR_EPSILON * USTR_PHI * m0) if m0 > 0 else float("nan")
    warm = {"w": None}

    def eq_at(r: float) -> Equilibrium:
        t = t0.copy()
        t[i_exp, i_imp, tax_idx] += r
        eq = solve(base, tariffs=t, closure=closure, initial_wage_hat=warm["w"])
        warm["w"] = np.asarray(eq.wage_hat)
        return eq

    def B(r: float) -> float:
        return _bilateral_deficit(np.asarray(eq_at(r).flows), i_imp, i_exp, bal_idx)

    b_base = _bilateral_deficit(f0, i_imp, i_exp, bal_idx)
    rates = np.unique(np.r_[lo, np.clip(lo + np.geomspace(1e-3, hi - lo, int(n_grid) - 1), lo, hi)])
    vals = []
    for r in rates:
        try:
            vals.append(B(float(r)))
        except ConvergenceError:
            # beyond here no valid equilibrium exists (e.g. a surplus country's income
            # would turn negative with fixed deficits): the search stops at the last valid rate
            break
    if len(vals) < 2:
        raise ConvergenceError(f"balancing tariff: no valid GE equilibrium for {importer}'s tariff on {exporter} above {lo:g}")
    rates = rates[: len(vals)]
    vals = np.array(vals)
    d = np.diff(vals)
    scale = max(abs(b_base), 1.0)
    monotone = bool((d <= 1e-9 * scale).all() or (d >= -1e-9 * scale).all())
    common = dict(importer=importer, exporter=exporter, closure=closure, taxed_sectors=taxed, balance_sectors=bal_sec,
                  baseline_deficit_usd=b_base, grid_rates=rates, grid_deficits_usd=vals, monotone=monotone,
                  ustr_formula_rate=float(ustr), bounds=(lo, hi))

    if abs(vals[0]) <= 1e-9 * max(m0, 1.0):
        return BalancingTariffResult(exists=True, tariff_rate=lo, deficit_at_rate_usd=float(vals[0]),
                                     reason="already balanced at the lower bound", equilibrium=eq_at(lo), **common)
    sign = np.sign(vals)
    change = np.nonzero(sign[1:] != sign[:-1])[0]
    if change.size:
        k = int(change[0])
        r_star = brentq(B, float(rates[k]), float(rates[k + 1]), xtol=xtol, rtol=1e-13, maxiter=200)
        eq = eq_at(r_star)
        b_star = _bilateral_deficit(np.asarray(eq.flows), i_imp, i_exp, bal_idx)
        reason = "" if monotone else f"B(r) is not monotone on the grid; the smallest root is reported ({change.size} sign change(s))"
        return BalancingTariffResult(exists=True, tariff_rate=float(r_star), deficit_at_rate_usd=b_star, reason=reason,
                                     equilibrium=eq, **common)

    # no sign change: say why
    spread = float(vals.max() - vals.min())
    if vals[0] < 0 and (np.diff(vals) <= 1e-9 * scale).all() and spread > 1e-7 * scale:
        why = (f"{importer} has a bilateral surplus of {-vals[0]:,.1f} USD mn at r = {lo:g} and raising the tariff only "
               "widens it; zeroing it needs a lower tariff (an import subsidy: lower bounds below 0)")
    elif spread <= 1e-7 * scale:
        why = (f"the bilateral balance does not respond to the tariff (it stays at {vals[0]:,.1f} USD mn): "
               + ("with two countries and fixed deficits the bilateral balance is the overall balance, pinned by the closure"
                  if world.n_regions == 2 and closure == "fixed" and balance == "all" else "it is pinned by the closure"))
    else:
        k = int(np.argmin(np.abs(vals)))
        f_top = np.asarray(eq_at(float(rates[-1])).flows)
        untaxed = [s for s in bal_idx if s not in set(tax_idx.tolist())]
        rest = float(f_top[i_exp, i_imp, untaxed].sum()) if untaxed else 0.0
        why = (f"B(r) keeps its sign on the grid; |B| is smallest, {vals[k]:,.1f} USD mn, at r = {rates[k]:.3g}"
               + (" (bounded away from zero" if monotone else " (B is not monotone")
               + f"; at r = {rates[-1]:g} imports of taxed goods are {float(f_top[i_exp, i_imp, tax_idx].sum()):,.1f}, "
               f"of untaxed balance sectors {rest:,.1f}, exports {float(f_top[i_imp, i_exp, bal_idx].sum()):,.1f} USD mn)")
    return BalancingTariffResult(exists=False, tariff_rate=None, deficit_at_rate_usd=None, reason=why, equilibrium=None,
                                 **common)


def fill_fairness_table(table, world: World, importer: str = "USA", exporter: str = "JPN", *, closure: str = "fixed",
                        result: BalancingTariffResult | None = None, **kwargs):
    """Put the GE balancing tariff into a fairness table (polars DataFrame) and return the new table.

    Works with the two layouts a fairness table can have: a column ``ge_balancing_tariff``
    (filled on every row, fraction; null when none exists) or a long table with a
    ``measure`` column (the row whose measure is ``ge_balancing_tariff`` is filled, or one
    is appended, in the first numeric column). A note column, where present
    (``note``/``source``), receives the reason when none exists.
    """
    import polars as pl

    res = result if result is not None else balancing_tariff(world, importer, exporter, closure=closure, **kwargs)
    val = res.tariff_rate if res.exists else None
    text = (f"GE ({res.closure} deficits), +{100 * val:.2f} pp" if val is not None
            else f"none exists: {res.reason}")
    if not isinstance(table, pl.DataFrame):
        raise DataError(f"fill_fairness_table: expected a polars DataFrame, got {type(table).__name__}")
    note_col = next((c for c in ("note", "source", "notes") if c in table.columns), None)
    if "ge_balancing_tariff" in table.columns:
        out = table.with_columns(pl.lit(val, dtype=pl.Float64).alias("ge_balancing_tariff"))
        return out
    if "measure" in table.columns:
        num = [c for c, t in table.schema.items() if t.is_numeric()]
        if not num:
            raise DataError("fill_fairness_table: the table has no numeric column for the rate")
        col = num[0]
        scale = 100.0 if ("pct" in col or "percent" in col) else 1.0
        v = None if val is None else scale * val
        if (table["measure"] == "ge_balancing_tariff").any():
            exprs = [pl.when(pl.col("measure") == "ge_balancing_tariff").then(pl.lit(v, dtype=pl.Float64))
                     .otherwise(pl.col(col)).alias(col)]
            if note_col:
                exprs.append(pl.when(pl.col("measure") == "ge_balancing_tariff").then(pl.lit(text))
                             .otherwise(pl.col(note_col)).alias(note_col))
            return table.with_columns(exprs)
        row = {c: None for c in table.columns}
        row.update({"measure": "ge_balancing_tariff", col: v})
        if note_col:
            row[note_col] = text
        return pl.concat([table, pl.DataFrame([row], schema=table.schema)], how="vertical")
    raise DataError("fill_fairness_table: table has neither a 'ge_balancing_tariff' column nor a 'measure' column")


__all__ = ["balancing_tariff", "BalancingTariffResult", "fill_fairness_table"]
