"""Nash bargaining between two governments over tariffs, a lump-sum transfer, pledges and purchases.

Two players (default the USA and Japan) bargain over an agreement ``x``:

- tariffs by sector group that each levies on the other (``"home_tariffs"`` /
  ``"partner_tariffs"``; the default groups are *autos* and *other goods* for the
  first player's tariffs, *agriculture & food* and *other goods* for the second's),
  each group rate replacing the current rates of its cells;
- a lump-sum transfer ``T`` (USD mn a year) from the second player to the first,
  e.g. Japan's host-nation support for US forces: ``D1[home] += T``,
  ``D1[partner] -= T`` in the GE model (``solve(..., deficits=...)``).

Payoffs are money-metric welfare changes ``EV = (W_hat - 1) I0`` (USD mn) in the
Caliendo-Parro GE model relative to the status quo. The disagreement point ``d``
is the bilateral Nash tariff war (each sets its group tariffs on the other as a
best response; third countries keep their tariffs), a user-given threat, or the
April 2025 US tariffs on Japan (``"threat"``), minus a *security value* each
player loses when talks fail. The Nash bargaining solution (Nash 1950; the
asymmetric form of Kalai 1977 with weight ``beta`` on the first player) is

    max_x  beta log(EV_home(x) - d_home) + (1 - beta) log(EV_partner(x) - d_partner)

over the bounded instruments, solved with exact gradients (``jax.jacrev``
through the equilibrium: implicit differentiation) and L-BFGS-B. The Pareto
frontier in (EV_home, EV_partner) is traced by the epsilon-constraint method
(Haimes et al. 1971): for targets ``u`` on a grid, ``max EV_partner s.t.
EV_home >= u`` (SLSQP, exact gradients), warm-started along the grid.

A *deal* (default: the 2025 US-Japan agreement) is placed relative to the
frontier: the all-in US tariff floor (EO 14345: ``max(MFN, 15%)``), the
investment pledge as a transfer equivalent (``pledge x grant_share`` a year),
and purchase commitments as the demand shift that reaches the pledged value
(modelled as Japan's import-subsidy equivalent on the committed US goods, the
shadow price of a quantity commitment, financed by Japan's government). Deal
terms and defaults are read from the bundled ``us_japan_policy_facts`` table;
:func:`policy_defaults` lists each with its source.

References
----------
Nash, J. F. (1950), "The Bargaining Problem", Econometrica 18(2), 155-162.
Kalai, E. (1977), "Nonsymmetric Nash solutions and replications of 2-person
bargaining", International Journal of Game Theory 6(3), 129-133.
Haimes, Y., L. Lasdon and D. Wismer (1971), "On a bicriterion formulation of the
problems of integrated system identification and system optimization", IEEE
Trans. Systems, Man, and Cybernetics 1(3), 296-297 (epsilon-constraint method).
Ossa, R. (2014), "Trade Wars and Trade Talks with Data", AER 104(12), section III
(Nash tariff wars as the threat point of trade talks).
Caliendo, L. and F. Parro (2015), REStud 82(1) (the GE model; deficits as transfers).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize, root

from ..errors import ConvergenceError, CornerSolutionWarning, DataError, ScenarioError, TariffsimError
from ..models.base import bind_model
from ..models.ge import ACCEPT_TOL, Equilibrium, equilibrium, make_params, solve
from ..world import World

FACTS = "us_japan_policy_facts"
INSTRUMENTS = ("home_tariffs", "partner_tariffs", "transfer")
#: aliases accepted for the default US-Japan players
_ALIASES = {"us_tariffs": "home_tariffs", "jpn_tariffs": "partner_tariffs", "japan_tariffs": "partner_tariffs"}
EV_SCALE = 1e3      # objectives in USD bn
T_SCALE = 1e4       # transfer variable in units of USD 10 bn
BOUND_TOL = 1e-7


# =========================================================================== defaults from facts
@lru_cache(maxsize=1)
def _facts() -> dict[str, dict]:
    from ..data import read_table

    try:
        df = read_table(FACTS, "facts")
    except TariffsimError:
        return {}
    return {r["key"]: r for r in df.to_dicts()}


def fact(key: str) -> float:
    """A numeric fact of ``us_japan_policy_facts`` (in its own unit); :class:`DataError` when missing."""
    row = _facts().get(key)
    if row is None or row.get("value_num") is None:
        raise DataError(f"{FACTS}.facts: no numeric value for key {key!r} (rebuild with scripts/build_data.py --only facts)")
    return float(row["value_num"])


def _source(key: str) -> str:
    row = _facts().get(key, {})
    return f"{row.get('source_title', '?')} ({row.get('source_publisher', '?')}); {row.get('verified', '')}"


#: Annual return assumed on the investment vehicle's capital: an assumption, not a sourced fact.
ASSUMED_PLEDGE_RETURN = 0.05


def _default_values() -> list[dict]:
    """Each default: name, value, unit, how it is derived, the fact keys, whether users should vary it."""
    gao_cost = fact("gao_dod_obligations_japan_2016_2019") * 1e3 / 4.0
    gao_support = fact("gao_japan_direct_support_2016_2019") * 1e3 / 4.0
    profit = fact("deal_us_profit_share")
    return [
        dict(name="security_value_usd[JPN]", value=gao_cost, unit="USD mn/yr",
             derivation="US DoD obligations for its presence in Japan, USD 20.9bn over 2016-2019 / 4 (GAO-21-270): what "
                        "Japan would lose at least (replacement cost) if failed talks ended US protection",
             keys="gao_dod_obligations_japan_2016_2019", vary=True),
        dict(name="security_value_usd[USA]", value=0.0, unit="USD mn/yr",
             derivation="assumption: no security loss for the US at disagreement (its basing value is not in the data)",
             keys="", vary=True),
        dict(name="host_nation_support (reference)", value=fact("sma_fy2022_2026_annual_avg"), unit="JPY bn/yr",
             derivation="Special Measures Agreement FY2022-2026 average (about USD 1.8bn/yr); already in the baseline, "
                        "the transfer instrument T is support beyond it", keys="sma_fy2022_2026_annual_avg", vary=False),
        dict(name="japan_direct_support (reference)", value=gao_support, unit="USD mn/yr",
             derivation="Japan's cash and in-kind support for US forces, USD 12.6bn over 2016-2019 / 4 (GAO-21-270)",
             keys="gao_japan_direct_support_2016_2019", vary=False),
        dict(name="pledge_usd", value=fact("deal_investment_vehicle") * 1e3, unit="USD mn",
             derivation="the USD 550bn investment vehicle of the 2025 agreement", keys="deal_investment_vehicle", vary=True),
        dict(name="grant_share", value=profit * ASSUMED_PLEDGE_RETURN, unit="1/yr",
             derivation=f"US share of the vehicle's profits (0.9) x an ASSUMED {ASSUMED_PLEDGE_RETURN:.0%} annual return: "
                        "the income Japan forgoes each year per dollar pledged; 0 if the projects pay market returns to Japan",
             keys="deal_us_profit_share", vary=True),
        dict(name="deal_tariff_floor", value=fact("deal_baseline_tariff_japan"), unit="fraction",
             derivation="EO 14345: all-in US tariff max(MFN, 15%) on Japanese goods, autos included",
             keys="deal_baseline_tariff_japan,japan_auto_tariff_after_eo", vary=False),
        dict(name="purchases_usd[agriculture, food, chemicals]", value=fact("deal_us_ag_and_other_purchases") * 1e3,
             unit="USD mn/yr", derivation="EO 14345: Japanese purchases of US corn, soybeans, fertilizer, bioethanol and "
             "other goods, USD 8bn/yr, treated as additional to the baseline", keys="deal_us_ag_and_other_purchases", vary=True),
        dict(name="purchases_usd[other transport (defence)]", value=(fact("deal_defense_purchases_us_firms") - 14.0) * 1e3,
             unit="USD mn/yr", derivation="Japan's annual defence purchases from US firms raised from USD 14bn to 17bn (news "
             "report; secondary source)", keys="deal_defense_purchases_us_firms", vary=True),
        dict(name="threat: reciprocal rate", value=fact("reciprocal_rate_japan_april2025"), unit="fraction",
             derivation="IEEPA reciprocal rate on Japan announced 2 April 2025, added to MFN on goods other than autos",
             keys="reciprocal_rate_japan_april2025", vary=False),
        dict(name="threat: autos Section 232", value=fact("s232_autos_april2025"), unit="fraction",
             derivation="Section 232 additional duty on automobiles from April 2025, added to MFN", keys="s232_autos_april2025",
             vary=False),
    ]


def policy_defaults():
    """Tidy table (polars) of the bargaining defaults with their sources (``us_japan_policy_facts``).

    Columns: name, value, unit, derivation, fact keys, source, and ``vary`` (True where the
    number is a parameter users should vary rather than a fact).
    """
    import polars as pl

    rows = _default_values()
    for r in rows:
        r["source"] = "; ".join(_source(k) for k in r["keys"].split(",") if k) or "assumption"
    return pl.DataFrame(rows).select("name", "value", "unit", "derivation", "keys", "source", "vary")


# =========================================================================== groups & deals
def goods_sectors(world: World) -> tuple[str, ...]:
    """Sectors that carry a tariff somewhere in the world (goods); all sectors if none do."""
    has = np.abs(np.asarray(world.tariffs)).max(axis=(0, 1)) > 0
    return tuple(s for s, h in zip(world.sectors, has) if h) or tuple(world.sectors)


def _names(world: World) -> list[str]:
    return [n.lower() for n in (world.sector_names or world.sectors)]


def _by_name(world: World, words: Sequence[str], among: Sequence[str]) -> tuple[str, ...]:
    names = dict(zip(world.sectors, _names(world)))
    return tuple(s for s in among if any(names[s].startswith(w) or w in names[s] for w in words))


def default_groups(world: World, players: Sequence[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Default tariff groups by importer: the first player's tariffs on the second by *autos* / *other goods*,
    the second's on the first by *agri_food* / *other goods* (goods = sectors with a tariff somewhere)."""
    goods = goods_sectors(world)
    autos = _by_name(world, ("motor vehicle",), goods)
    agri = _by_name(world, ("agricultur", "fishing", "food"), goods)
    out = {}
    for imp, special, label in ((players[0], autos, "autos"), (players[1], agri, "agri_food")):
        g = {label: special, "other_goods": tuple(s for s in goods if s not in special)}
        out[imp] = {k: v for k, v in g.items() if v}
    return out


def default_purchase_sectors(world: World) -> dict[str, tuple[str, ...]]:
    """Sectors of the 2025 purchase commitments by name (fallback: all goods sectors)."""
    goods = goods_sectors(world)
    ag = _by_name(world, ("agricultur", "food", "chemical and chemical"), goods) or goods
    defence = _by_name(world, ("other transport",), goods) or goods
    return {"agriculture, food, chemicals": ag, "other transport (defence)": defence}


@dataclass(frozen=True, eq=False)
class Deal:
    """A negotiated package between the two players (home = first player, partner = second).

    ``home_tariff_floor``: the home country's all-in tariff on the partner's goods,
    ``max(current, floor)`` (EO 14345's rule); ``tariffs``: a full (exporter, importer,
    sector) array instead. ``transfer_usd``: extra lump-sum transfer partner -> home, USD
    mn/yr. The pledge enters as ``pledge_usd x grant_share`` USD mn/yr. ``purchases_usd``:
    {label: (sector codes, USD mn/yr)}: the partner's imports from home in those sectors
    rise by that amount over the status quo (reached by an import-subsidy equivalent).
    """

    name: str = "custom deal"
    home_tariff_floor: float | None = None
    tariffs: np.ndarray | None = None
    transfer_usd: float = 0.0
    pledge_usd: float = 0.0
    grant_share: float = 0.0
    purchases_usd: Mapping[str, tuple[tuple[str, ...], float]] = field(default_factory=dict)

    @property
    def transfer_equivalent_usd(self) -> float:
        """Transfer partner -> home, USD mn/yr: extra transfer + pledge x grant share."""
        return float(self.transfer_usd + self.pledge_usd * self.grant_share)


def deal_2025(world: World) -> Deal:
    """The 2025 US-Japan agreement (EO 14345; White House fact sheet) on ``world``'s sectors, from the bundled facts:
    15% all-in US tariff floor on Japanese goods (autos included), the USD 550bn pledge at the default grant
    share, USD 8bn/yr farm and other purchases and USD 3bn/yr more defence purchases (as additions)."""
    d = {r["name"]: r["value"] for r in _default_values()}
    sec = default_purchase_sectors(world)
    return Deal(
        name="2025 US-Japan agreement", home_tariff_floor=d["deal_tariff_floor"], pledge_usd=d["pledge_usd"],
        grant_share=d["grant_share"],
        purchases_usd={"agriculture, food, chemicals": (sec["agriculture, food, chemicals"],
                                                        d["purchases_usd[agriculture, food, chemicals]"]),
                       "other transport (defence)": (sec["other transport (defence)"],
                                                     d["purchases_usd[other transport (defence)]"])})


def threat_2025(world: World, home: str = "USA", partner: str = "JPN") -> np.ndarray:
    """April 2025 US tariffs on Japan, no retaliation: MFN + 24% reciprocal on goods, MFN + 25% (Section 232) on autos."""
    d = {r["name"]: r["value"] for r in _default_values()}
    t = np.array(world.tariffs, dtype=float)
    i, j = world.index(partner), world.index(home)
    goods = goods_sectors(world)
    autos = _by_name(world, ("motor vehicle",), goods)
    for s in goods:
        k = world.sectors.index(s)
        t[i, j, k] += d["threat: autos Section 232"] if s in autos else d["threat: reciprocal rate"]
    return t


# =========================================================================== the game (compiled kernel)
class _Game:
    """Two players, their group-tariff instruments and a transfer, over one compiled GE kernel.

    ``x = [tariff parameters..., T]``; ``evaluate(x)`` returns (EV (2,), d EV / d x (2, k+1)),
    exact (``jax.jacrev`` through the implicit-function derivatives of the solver).
    """

    def __init__(self, world: World, players: Sequence[str], groups, closure: str):
        if closure not in ("fixed", "balanced"):
            raise ScenarioError(f"closure must be 'fixed' or 'balanced', got {closure!r}")
        # the same baseline as optimal_tariff / nash_tariffs (balanced: deficits purged first)
        self.world = bind_model(world, "caliendo_parro", closure=closure).world
        self.closure = closure
        w = self.world
        self.players = tuple(players)
        self.a, self.b = w.index(players[0]), w.index(players[1])
        groups = default_groups(w, players) if groups is None else groups
        index = -np.ones(w.flows.shape, dtype=np.int64)
        labels, owner = [], []
        for imp, exp in ((players[0], players[1]), (players[1], players[0])):
            for g, secs in dict(groups.get(imp, {})).items():
                sidx = w.sector_index(list(secs))
                if len(sidx) == 0:
                    continue
                if (index[w.index(exp), w.index(imp), sidx] >= 0).any():
                    raise ScenarioError(f"groups: sector listed twice in the groups of {imp}")
                index[w.index(exp), w.index(imp), sidx] = len(labels)
                labels.append((imp, exp, g))
                owner.append(0 if imp == players[0] else 1)
        self.index, self.labels, self.owner = index, tuple(labels), np.array(owner)
        self.n_t = len(labels)
        self.base = make_params(w, None, closure=closure)
        self.log_w = np.zeros(w.n_regions)
        self.n_eval = 0
        a, b, has_io, base = self.a, self.b, w.has_io, self.base
        idx = jnp.asarray(index)

        def ev_fn(x, log_w0):
            t1 = jnp.where(idx >= 0, x[jnp.maximum(idx, 0)], base.t1)
            d1 = base.d1.at[a].add(x[-1]).at[b].add(-x[-1])
            sol = equilibrium(base._replace(t1=t1, d1=d1), log_w0, has_io)
            ev = (sol.welfare_hat - 1.0) * base.i0
            out = jnp.stack([ev[a], ev[b]])
            return out, (out, jnp.log(sol.wage_hat), sol.residual)

        self._jac = jax.jit(jax.jacrev(ev_fn, has_aux=True))

    # ------------------------------------------------------------------ kernel
    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """EV (2,) and Jacobian (2, k+1); NaN when the equilibrium fails at ``x``."""
        self.n_eval += 1
        jac, (ev, log_w, res) = self._jac(jnp.asarray(x, dtype=float), jnp.asarray(self.log_w))
        ev, jac = np.asarray(ev), np.asarray(jac)
        if not (float(res) < ACCEPT_TOL and np.isfinite(ev).all() and np.isfinite(jac).all()):
            return np.full(2, np.nan), np.full((2, len(x)), np.nan)
        self.log_w = np.asarray(log_w)
        return ev, jac

    def tariffs(self, x: np.ndarray) -> np.ndarray:
        t = np.array(self.world.tariffs, dtype=float)
        m = self.index >= 0
        t[m] = np.asarray(x)[self.index[m]]
        return t

    def solve(self, tariffs: np.ndarray, transfer: float = 0.0) -> Equilibrium:
        """Full equilibrium via the public :func:`solve` (raises :class:`ConvergenceError`)."""
        d = np.asarray(self.base.d1, dtype=float).copy()
        d[self.a] += transfer
        d[self.b] -= transfer
        return solve(self.world, tariffs=tariffs, deficits=d, closure=self.closure)

    def ev_of(self, eq: Equilibrium) -> np.ndarray:
        return np.asarray(eq.ev_usd)[[self.a, self.b]]

    def start(self) -> np.ndarray:
        """Status-quo-like start: each group's current trade-weighted mean rate, T = 0."""
        w = self.world
        x = np.zeros(self.n_t + 1)
        f, t = np.asarray(w.flows), np.asarray(w.tariffs)
        for k in range(self.n_t):
            m = self.index == k
            x[k] = float((f[m] * t[m]).sum() / max(f[m].sum(), 1e-300))
        return x


# =========================================================================== optimisers
def _lbfgsb(fun, x0, bounds, what: str, gtol: float = 1e-10, max_iter: int = 500):
    """Minimise ``fun(x) -> (f, g)`` (NaN = failed equilibrium: back off) over a box with L-BFGS-B."""

    def f(x):
        v, g = fun(x)
        if not np.isfinite(v) or not np.isfinite(g).all():
            return 1e12, np.zeros_like(x)
        return v, g

    res = minimize(f, np.clip(x0, [b[0] for b in bounds], [b[1] for b in bounds]), jac=True, method="L-BFGS-B",
                   bounds=bounds, options={"maxiter": max_iter, "ftol": 1e-15, "gtol": gtol, "maxcor": 20})
    v, g = fun(res.x)
    if not np.isfinite(v):
        raise ConvergenceError(f"{what}: the equilibrium did not converge at the optimiser's last point")
    lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    pg = np.where(res.x <= lo + BOUND_TOL, np.minimum(g, 0), np.where(res.x >= hi - BOUND_TOL, np.maximum(g, 0), g))
    pgn = float(np.max(np.abs(pg))) if pg.size else 0.0
    if res.status != 0 and pgn > 1e-5:
        raise ConvergenceError(f"{what}: optimiser stopped ({res.message}); projected gradient {pgn:.2e}",
                               residual=pgn, iterations=int(res.nit))
    return res.x, v, g, pgn


class _Scaled:
    """x (natural units: tariffs, T in USD mn) <-> z (optimiser units: T / T_SCALE)."""

    def __init__(self, game: _Game, tariff_bounds, transfer_bounds, free: np.ndarray):
        self.g, self.free = game, free
        self.scale = np.ones(game.n_t + 1)
        self.scale[-1] = 1.0 / T_SCALE
        lo = np.r_[np.full(game.n_t, tariff_bounds[0]), transfer_bounds[0]]
        hi = np.r_[np.full(game.n_t, tariff_bounds[1]), transfer_bounds[1]]
        self.lo, self.hi = lo, hi

    def bounds(self, x_fixed):
        z_lo, z_hi = self.lo * self.scale, self.hi * self.scale
        return [(z_lo[k], z_hi[k]) for k in np.nonzero(self.free)[0]]

    def x(self, z, x_fixed):
        x = np.array(x_fixed, dtype=float)
        x[self.free] = np.asarray(z) / self.scale[self.free]
        return x

    def z(self, x):
        return (np.asarray(x) * self.scale)[self.free]


def _eps_constraint(game: _Game, sc: _Scaled, x0: np.ndarray, target: float, who: int, *, what: str):
    """max EV[1-who] s.t. EV[who] >= target (SLSQP, exact gradients); returns x, EV."""
    other = 1 - who
    cache: dict = {}

    def ev(z):
        key = tuple(np.round(z, 15))
        if key not in cache:
            cache.clear()
            cache[key] = game.evaluate(sc.x(z, x0))
        return cache[key]

    def obj(z):
        e, j = ev(z)
        if not np.isfinite(e).all():
            return 1e6, np.zeros_like(z)
        return -e[other] / EV_SCALE, -(j[other][sc.free] / sc.scale[sc.free]) / EV_SCALE

    def con(z):
        e, _ = ev(z)
        return np.array([(e[who] - target) / EV_SCALE]) if np.isfinite(e).all() else np.array([-1e6])

    def con_jac(z):
        e, j = ev(z)
        return (j[who][sc.free] / sc.scale[sc.free] / EV_SCALE)[None, :] if np.isfinite(e).all() else np.zeros((1, len(z)))

    res = minimize(lambda z: obj(z)[0], sc.z(x0), jac=lambda z: obj(z)[1], method="SLSQP", bounds=sc.bounds(x0),
                   constraints=[{"type": "ineq", "fun": con, "jac": con_jac}], options={"maxiter": 300, "ftol": 1e-12})
    x = sc.x(res.x, x0)
    e, _ = game.evaluate(x)
    if not np.isfinite(e).all():
        raise ConvergenceError(f"{what}: the equilibrium did not converge at the optimiser's last point")
    if (not res.success and res.status not in (8,)) or e[who] < target - 1e-5 * EV_SCALE:
        raise ConvergenceError(f"{what}: SLSQP failed ({res.message}); constraint gap {(target - e[who]):.3g} USD mn")
    return x, e


# =========================================================================== results
@dataclass(frozen=True, eq=False)
class Point:
    """An outcome: full tariff array, transfer (USD mn/yr, partner -> home), EV of (home, partner) in USD mn."""

    label: str
    tariffs: np.ndarray
    transfer_usd: float
    ev_usd: np.ndarray
    parameters: np.ndarray | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class DealPosition:
    """Where a deal sits relative to the frontier (all money in USD mn/yr).

    ``gap_partner_usd``: how much more the partner could get on the frontier with the home
    country at the deal's EV (vertical distance); ``gap_home_usd`` the same for home
    (horizontal); ``distance_usd``: Euclidean distance to the traced frontier;
    ``home_share_of_surplus``: home's share of the deal's gains over disagreement (NaN unless both gain);
    ``efficiency``: the deal's total gain over disagreement / the NBS's.
    """

    deal: Deal
    point: Point
    gap_partner_usd: float
    gap_home_usd: float
    distance_usd: float
    home_share_of_surplus: float
    efficiency: float
    individually_rational: tuple[bool, bool]
    purchase_wedges: Mapping[str, float]


@dataclass(frozen=True, eq=False)
class BargainResult:
    """Nash bargaining solution, Pareto frontier and a deal's position (DESIGN §5).

    ``nbs``, ``disagreement``, ``status_quo`` are :class:`Point`; ``frontier_ev_usd`` is
    (n, 2): EV of (home, partner) along the individually rational part of the frontier,
    ``frontier_parameters`` the instruments there. ``security_value_usd`` is subtracted
    from the disagreement EVs. ``nbs_frontier_gap_usd``: how much more the partner could
    get with home held at the NBS (0 when the NBS is efficient).
    """

    players: tuple[str, str]
    beta: float
    closure: str
    instruments: tuple[str, ...]
    labels: tuple[str, ...]
    bounds: Mapping[str, tuple[float, float]]
    disagreement: Point
    disagreement_kind: str
    security_value_usd: np.ndarray
    threat_values_usd: np.ndarray
    nbs: Point
    nbs_frontier_gap_usd: float
    nbs_corner: tuple[str, ...]
    frontier_ev_usd: np.ndarray
    frontier_parameters: np.ndarray
    deal: DealPosition | None
    defaults: Any
    evaluations: int
    seconds: float

    @property
    def nbs_gains_usd(self) -> np.ndarray:
        """Gains of (home, partner) at the NBS over their disagreement values, USD mn/yr."""
        return self.nbs.ev_usd - self.threat_values_usd

    @property
    def ev_usd_bn(self) -> np.ndarray:
        """EV of (home, partner) at the NBS, USD bn/yr."""
        return self.nbs.ev_usd / 1e3

    @property
    def disagreement_ev_usd_bn(self) -> np.ndarray:
        """EV of (home, partner) at the disagreement point (before security values), USD bn/yr."""
        return self.disagreement.ev_usd / 1e3

    def frontier(self):
        """Tidy table (polars) of the frontier: EV of both players (``ev_<code>_usd_bn``, USD bn/yr) and the instruments."""
        import polars as pl

        cols = {f"ev_{self.players[0]}_usd_bn": self.frontier_ev_usd[:, 0] / 1e3,
                f"ev_{self.players[1]}_usd_bn": self.frontier_ev_usd[:, 1] / 1e3}
        for k, lab in enumerate(self.labels):
            cols[lab] = self.frontier_parameters[:, k]
        return pl.DataFrame(cols)

    def summary(self):
        """Tidy table (polars): EVs of the disagreement point, NBS, deal; instruments at the NBS and the deal."""
        import polars as pl

        h, p = self.players
        rows = [("disagreement (" + self.disagreement_kind + ")", self.disagreement), ("Nash bargaining solution", self.nbs)]
        if self.deal is not None:
            rows.append((self.deal.deal.name, self.deal.point))
        return pl.DataFrame({
            "outcome": [r[0] for r in rows],
            f"ev_{h.lower()}_usd_mn": [float(r[1].ev_usd[0]) for r in rows],
            f"ev_{p.lower()}_usd_mn": [float(r[1].ev_usd[1]) for r in rows],
            "transfer_usd_mn": [float(r[1].transfer_usd) for r in rows],
        })

    def __str__(self) -> str:
        h, p = self.players
        lines = [f"Nash bargaining {h}-{p} (beta={self.beta:g} on {h}; closure={self.closure}; EV in USD mn/yr vs status quo)",
                 f"  disagreement ({self.disagreement_kind}): EV {h} {self.disagreement.ev_usd[0]:,.0f}, {p} "
                 f"{self.disagreement.ev_usd[1]:,.0f}; security value lost {h} {self.security_value_usd[0]:,.0f}, "
                 f"{p} {self.security_value_usd[1]:,.0f}",
                 f"  NBS: EV {h} {self.nbs.ev_usd[0]:,.0f}, {p} {self.nbs.ev_usd[1]:,.0f}; transfer {p}->{h} "
                 f"{self.nbs.transfer_usd:,.0f}; " + ", ".join(f"{lab} {v:.4g}" for lab, v in zip(self.labels, self.nbs.parameters))]
        if self.deal is not None:
            d = self.deal
            lines.append(f"  {d.deal.name}: EV {h} {d.point.ev_usd[0]:,.0f}, {p} {d.point.ev_usd[1]:,.0f}; transfer-equivalent "
                         f"{d.deal.transfer_equivalent_usd:,.0f}; {p} could gain {d.gap_partner_usd:,.0f} more on the frontier; "
                         f"{h}'s share of surplus {d.home_share_of_surplus:.2f}; efficiency {d.efficiency:.2f}")
        lines.append("  defaults (vary those marked *):")
        for r in self.defaults.iter_rows(named=True):
            lines.append(f"   {'*' if r['vary'] else ' '} {r['name']} = {r['value']:,.4g} {r['unit']}: {r['source']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"BargainResult({self.players[0]}-{self.players[1]}, beta={self.beta:g}, NBS EV=({self.nbs.ev_usd[0]:,.0f}, "
                f"{self.nbs.ev_usd[1]:,.0f}), frontier {len(self.frontier_ev_usd)} points)")


# =========================================================================== war
def bilateral_war(game: _Game, tariff_bounds, *, max_rounds: int = 50, tol: float = 1e-7):
    """Bilateral Nash tariff war in group tariffs (T = 0): Gauss-Seidel best responses (Ossa 2014, III.B).

    Returns (x, EV, deviation gains in USD mn). Verified: each player's re-solved best response at
    the returned profile gains at most ``tol``-relative.
    """
    x = game.start()
    x[:game.n_t] = np.clip(x[:game.n_t], *tariff_bounds)
    x[-1] = 0.0

    def br(k, x):
        free = np.r_[game.owner == k, False]
        sc = _Scaled(game, tariff_bounds, (0.0, 0.0), free)

        def fun(z):
            e, j = game.evaluate(sc.x(z, x))
            return -e[k] / EV_SCALE, -j[k][free] / EV_SCALE

        z, v, _, _ = _lbfgsb(fun, sc.z(x), sc.bounds(x), f"best response of {game.players[k]}")
        return sc.x(z, x), -v * EV_SCALE

    for _ in range(max_rounds):
        x_old = x.copy()
        for k in (0, 1):
            x, _ = br(k, x)
        if np.max(np.abs(x - x_old)) < 1e-6:
            break
    else:
        raise ConvergenceError(f"bilateral tariff war: no fixed point after {max_rounds} rounds")
    ev, _ = game.evaluate(x)
    dev = np.zeros(2)
    for k in (0, 1):
        _, v = br(k, x)
        dev[k] = v - ev[k]
    if (dev > 1e-6 * np.abs(np.asarray(game.base.i0)[[game.a, game.b]])).any():
        raise ConvergenceError(f"bilateral tariff war: a player still gains {dev.max():.3g} USD mn by deviating")
    return x, ev, dev


# =========================================================================== main entry
def bargain(
    world: World,
    players: Sequence[str] = ("USA", "JPN"),
    *,
    instruments: Sequence[str] = INSTRUMENTS,
    groups: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    disagreement: str | np.ndarray | Any = "nash",
    beta: float = 0.5,
    weight: float | None = None,
    security_value_usd: Mapping[str, float] | None = None,
    tariff_bounds: tuple[float, float] = (0.0, 2.0),
    transfer_bounds: tuple[float, float] = (-50_000.0, 50_000.0),
    deal: Deal | str | None = "2025",
    pledge_usd: float | None = None,
    grant_share: float | None = None,
    purchases_usd: Mapping[str, tuple[Sequence[str], float]] | None = None,
    closure: str = "balanced",
    n_frontier: int = 50,
    frontier_points: int | None = None,
    security_value_usd_bn: Mapping[str, float] | None = None,
) -> BargainResult:
    """Nash bargaining solution, Pareto frontier and the position of a deal (DESIGN §5, issue 6).

    Parameters
    ----------
    world : the baseline World (status quo: its tariffs).
    players : (home, partner); the transfer goes partner -> home.
    instruments : subset of ``"home_tariffs"`` (home's group tariffs on the partner),
        ``"partner_tariffs"`` (partner's group tariffs on home), ``"transfer"`` (T, USD mn/yr).
        Aliases ``"us_tariffs"``, ``"jpn_tariffs"``. Tariffs not chosen stay at the status quo.
    groups : {importer: {group: sector codes}}; default :func:`default_groups`.
    disagreement : ``"nash"`` (bilateral group-tariff Nash war, others at the status quo),
        ``"threat"`` (April 2025 US tariffs on Japan, no retaliation: :func:`threat_2025`),
        a full tariff array, or a result with a ``tariff_rate`` array (e.g. ``nash_tariffs``).
    beta : bargaining weight of home (``weight`` is an alias).
    security_value_usd : {player: USD mn/yr lost at disagreement}; default from
        :func:`policy_defaults` (Japan: US cost of its forces in Japan, GAO; USA: 0).
    tariff_bounds, transfer_bounds : admissible group rates (fractions; negative = import
        subsidies, the purchase-commitment instrument) and transfer (USD mn/yr).
    deal : ``"2025"`` (:func:`deal_2025`), a :class:`Deal`, or None; ``pledge_usd``,
        ``grant_share``, ``purchases_usd`` ({label: (sectors, USD mn/yr)}) override its terms.
    closure : ``"balanced"`` (deficits purged first, as for optimal tariffs) or ``"fixed"``.
    n_frontier : number of frontier points (individually rational part); ``frontier_points`` is an alias.
    security_value_usd_bn : the same as ``security_value_usd`` in USD bn/yr (alias for scenario files).

    Returns
    -------
    BargainResult; ``str(result)`` prints the outcome and the defaults with their sources.

    Raises
    ------
    ScenarioError on invalid options; ConvergenceError when an equilibrium or optimiser fails;
    TariffsimError when no agreement beats disagreement for both players.
    """
    t_start = time.perf_counter()
    if weight is not None:
        beta = weight
    if frontier_points is not None:
        n_frontier = frontier_points
    if security_value_usd_bn is not None:
        if security_value_usd is not None:
            raise ScenarioError("give security_value_usd or security_value_usd_bn, not both")
        security_value_usd = {k: 1e3 * float(v) for k, v in dict(security_value_usd_bn).items()}
    if not 0.0 < float(beta) < 1.0:
        raise ScenarioError(f"beta: bargaining weight must lie in (0, 1), got {beta!r}")
    players = tuple(players)
    if len(players) != 2 or players[0] == players[1]:
        raise ScenarioError("players: give two distinct region codes (home, partner)")
    inst = tuple(_ALIASES.get(i, i) for i in instruments)
    bad = [i for i in inst if i not in INSTRUMENTS]
    if bad or not inst:
        raise ScenarioError(f"instruments: unknown {bad}; choose from {', '.join(INSTRUMENTS)}")
    lo_t, hi_t = (float(v) for v in tariff_bounds)
    if not (-1.0 < lo_t < hi_t and np.isfinite(hi_t)):
        raise ScenarioError(f"tariff_bounds must satisfy -1 < lower < upper < inf, got {tariff_bounds!r}")
    lo_T, hi_T = (float(v) for v in transfer_bounds) if "transfer" in inst else (0.0, 0.0)
    if not lo_T <= hi_T:
        raise ScenarioError(f"transfer_bounds: lower > upper: {transfer_bounds!r}")
    if int(n_frontier) < 2:
        raise ScenarioError("n_frontier: need at least 2 points")
    for p in players:
        world.index(p)

    game = _Game(world, players, groups, closure)
    w = game.world
    defaults = policy_defaults() if _facts() else None
    sec = np.zeros(2)
    if security_value_usd is None:
        if players == ("USA", "JPN") and defaults is not None:
            sec[1] = float(defaults.filter(defaults["name"] == "security_value_usd[JPN]")["value"][0])
    else:
        for k, v in dict(security_value_usd).items():
            if k not in players:
                raise ScenarioError(f"security_value_usd: {k!r} is not a player")
            if not np.isfinite(float(v)):
                raise ScenarioError(f"security_value_usd[{k}]: not finite")
            sec[players.index(k)] = float(v)

    # ---- disagreement point
    if isinstance(disagreement, str):
        if disagreement == "nash":
            x_d, ev_d, _ = bilateral_war(game, (lo_t, hi_t))
            d_point = Point("bilateral Nash tariff war", game.tariffs(x_d), 0.0, ev_d, x_d)
        elif disagreement == "threat":
            eq = game.solve(threat_2025(w, *players))
            d_point = Point("April 2025 US tariffs, no retaliation", np.asarray(eq.tariffs), 0.0, game.ev_of(eq))
        else:
            raise ScenarioError(f"disagreement must be 'nash', 'threat' or a tariff array, got {disagreement!r}")
        kind = disagreement
    else:
        arr = getattr(disagreement, "tariff_rate", disagreement)
        eq = game.solve(np.asarray(arr, dtype=float))
        d_point = Point("given threat", np.asarray(eq.tariffs), 0.0, game.ev_of(eq))
        kind = "given"
    d = d_point.ev_usd - sec

    # ---- instruments in play
    free = np.r_[[(("home_tariffs" in inst) if o == 0 else ("partner_tariffs" in inst)) for o in game.owner],
                 hi_T > lo_T]
    if not free.any():
        raise ScenarioError("instruments: nothing to bargain over (no tariff group and a fixed transfer)")
    sc = _Scaled(game, (lo_t, hi_t), (lo_T, hi_T), free)
    x_sq = game.start()
    x_sq[-1] = float(np.clip(0.0, lo_T, hi_T))

    # ---- frontier: individually rational part, by the epsilon-constraint method
    x_top, e_top = _eps_constraint(game, sc, x_sq, d[0], 0, what="frontier (partner's best)")   # max EV partner, home >= d
    x_rgt, e_rgt = _eps_constraint(game, sc, x_sq, d[1], 1, what="frontier (home's best)")      # max EV home, partner >= d
    if e_top[1] < d[1] - 1e-6 * EV_SCALE or e_rgt[0] < d[0]:
        raise TariffsimError(f"bargain: no agreement in the instrument set beats disagreement for both {players[0]} and {players[1]}")
    targets = np.linspace(d[0], e_rgt[0], int(n_frontier))
    fx, fe = [x_top], [e_top]
    x_prev = x_top
    for u in targets[1:-1]:
        x_prev, e = _eps_constraint(game, sc, x_prev, u, 0, what=f"frontier at EV {players[0]} = {u:,.0f}")
        fx.append(x_prev)
        fe.append(e)
    fx.append(x_rgt)
    fe.append(e_rgt)
    fx, fe = np.array(fx), np.array(fe)

    # ---- Nash bargaining solution: start from the best frontier point, refine with exact gradients
    gains = fe - d
    ok = (gains > 0).all(axis=1)
    if not ok.any():
        raise TariffsimError("bargain: the bargaining set is a single point (no strict gain over disagreement for both)")
    nash = np.where(ok, beta * np.log(np.where(ok, gains[:, 0], 1)) + (1 - beta) * np.log(np.where(ok, gains[:, 1], 1)), -np.inf)
    x0 = fx[int(np.argmax(nash))]
    wts = np.array([beta, 1 - beta])

    def nbs_fun(z):
        x = sc.x(z, x0)
        e, j = game.evaluate(x)
        g = e - d
        if not np.isfinite(e).all() or (g <= 0).any():
            return np.nan, np.zeros_like(z)
        val = -(wts @ np.log(g))
        grad = -((wts / g) @ j)[free] / sc.scale[free]
        return val, grad

    z, _, _, pgn = _lbfgsb(nbs_fun, sc.z(x0), sc.bounds(x0), "Nash bargaining solution", gtol=1e-12)
    x_nbs = sc.x(z, x0)
    e_nbs, _ = game.evaluate(x_nbs)
    corner = tuple(lab for lab, v, lo, hi, f in zip(
        [f"{i}<-{e} {g}" for i, e, g in game.labels] + ["transfer"], x_nbs, sc.lo, sc.hi, free)
        if f and (v <= lo + 1e-6 * max(1, abs(lo)) or v >= hi - 1e-6 * max(1, abs(hi))))
    if "transfer" in corner:
        warnings.warn("bargain: the transfer at the Nash bargaining solution sits at a bound of transfer_bounds",
                      CornerSolutionWarning, stacklevel=2)
    # efficiency check: with home held at its NBS value, how much more could the partner get?
    _, e_chk = _eps_constraint(game, sc, x_nbs, e_nbs[0], 0, what="frontier check at the NBS")
    gap = float(max(e_chk[1] - e_nbs[1], 0.0))
    eq_nbs = game.solve(game.tariffs(x_nbs), x_nbs[-1])   # independent re-solve via the public solver
    nbs = Point("Nash bargaining solution", np.asarray(eq_nbs.tariffs), float(x_nbs[-1]), game.ev_of(eq_nbs), x_nbs,
                meta={"welfare_hat": np.asarray(eq_nbs.welfare_hat), "projected_gradient": pgn})

    # ---- the deal
    dpos = None
    if deal is not None:
        dl = deal_2025(w) if isinstance(deal, str) and deal == "2025" else deal
        if not isinstance(dl, Deal):
            raise ScenarioError(f"deal must be '2025', a Deal or None, got {deal!r}")
        over = {}
        if pledge_usd is not None:
            over["pledge_usd"] = float(pledge_usd)
        if grant_share is not None:
            over["grant_share"] = float(grant_share)
        if purchases_usd is not None:
            over["purchases_usd"] = {k: (tuple(s), float(v)) for k, (s, v) in dict(purchases_usd).items()}
        dl = replace(dl, **over)
        dpos = locate_deal(game, sc, dl, d, fx, fe, e_nbs)

    labels = tuple(f"{i}<-{e} {g}" for i, e, g in game.labels) + ("transfer_usd_mn",)
    return BargainResult(
        players=players, beta=float(beta), closure=closure, instruments=inst, labels=labels,
        bounds={"tariffs": (lo_t, hi_t), "transfer": (lo_T, hi_T)}, disagreement=d_point, disagreement_kind=kind,
        security_value_usd=sec, threat_values_usd=d, nbs=nbs, nbs_frontier_gap_usd=gap, nbs_corner=corner,
        frontier_ev_usd=fe, frontier_parameters=fx, deal=dpos, defaults=defaults, evaluations=game.n_eval,
        seconds=time.perf_counter() - t_start)


# =========================================================================== deal evaluation
def deal_outcome(game: _Game, deal: Deal) -> tuple[Equilibrium, dict[str, float]]:
    """Equilibrium of a deal: tariffs (floor or array), transfer equivalent, and the purchase wedges
    ``sigma_k`` (partner's tariff factor ``(1 + t)(1 - sigma_k)`` on home's goods in the committed
    sectors) that raise the partner's imports from home there by the committed amounts."""
    w = game.world
    if deal.tariffs is not None:
        t = np.array(deal.tariffs, dtype=float)
        if t.shape != w.flows.shape:
            raise DataError(f"deal.tariffs: expected shape {w.flows.shape}, got {t.shape}")
    else:
        t = np.array(w.tariffs, dtype=float)
        if deal.home_tariff_floor is not None:
            for s in goods_sectors(w):
                k = w.sectors.index(s)
                t[game.b, game.a, k] = max(t[game.b, game.a, k], float(deal.home_tariff_floor))
    T = deal.transfer_equivalent_usd
    items = [(lab, w.sector_index(list(secs)), float(v)) for lab, (secs, v) in dict(deal.purchases_usd).items() if float(v) != 0]
    if not items:
        return game.solve(t, T), {}
    f0 = np.asarray(w.flows)[game.a, game.b]
    targets = np.array([f0[s].sum() + v for _, s, v in items])
    if (targets <= 0).any():
        raise DataError("deal.purchases_usd: a commitment would push imports below zero")

    def tariffs_with(sig):
        tt = t.copy()
        for (_, s, _), sg in zip(items, sig):
            tt[game.a, game.b, s] = (1.0 + t[game.a, game.b, s]) * (1.0 - sg) - 1.0
        return tt

    def resid(sig):
        if (np.asarray(sig) >= 0.95).any():
            return np.full(len(items), 1e3)
        eq = game.solve(tariffs_with(sig), T)
        fl = np.asarray(eq.flows)[game.a, game.b]
        return np.array([fl[s].sum() for _, s, _ in items]) / targets - 1.0

    sol = root(resid, np.zeros(len(items)), method="hybr", options={"xtol": 1e-12})
    if not sol.success or np.max(np.abs(resid(sol.x))) > 1e-8:
        raise ConvergenceError(f"deal {deal.name!r}: no import-subsidy equivalent reaches the purchase commitments ({sol.message})")
    return game.solve(tariffs_with(sol.x), T), {lab: float(sg) for (lab, _, _), sg in zip(items, sol.x)}


def _dist_to_polyline(p: np.ndarray, pts: np.ndarray) -> float:
    best = np.inf
    for a, b in zip(pts[:-1], pts[1:]):
        ab = b - a
        s = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-300), 0.0, 1.0)
        best = min(best, float(np.linalg.norm(p - (a + s * ab))))
    return best


def locate_deal(game: _Game, sc: _Scaled, deal: Deal, d: np.ndarray, fx: np.ndarray, fe: np.ndarray,
                e_nbs: np.ndarray) -> DealPosition:
    """Evaluate ``deal`` and measure its distance to the frontier (exact epsilon-constraint solves at its EVs)."""
    eq, wedges = deal_outcome(game, deal)
    e = game.ev_of(eq)
    # vertical gap: max partner EV with home >= deal's home EV (start from the nearest frontier point)
    k = int(np.argmin(np.abs(fe[:, 0] - e[0])))
    _, e_v = _eps_constraint(game, sc, fx[k], e[0], 0, what=f"frontier at the deal ({deal.name})")
    k = int(np.argmin(np.abs(fe[:, 1] - e[1])))
    _, e_h = _eps_constraint(game, sc, fx[k], e[1], 1, what=f"frontier at the deal ({deal.name})")
    pts = np.vstack([e_v, fe, e_h])
    pts = pts[np.argsort(pts[:, 0])]
    g = e - d
    tot = g.sum()
    return DealPosition(
        deal=deal, point=Point(deal.name, np.asarray(eq.tariffs), deal.transfer_equivalent_usd, e,
                               meta={"welfare_hat": np.asarray(eq.welfare_hat)}),
        gap_partner_usd=float(e_v[1] - e[1]), gap_home_usd=float(e_h[0] - e[0]),
        distance_usd=_dist_to_polyline(e, pts), home_share_of_surplus=float(g[0] / tot) if (g > 0).all() else float("nan"),
        efficiency=float(tot / (e_nbs - d).sum()), individually_rational=(bool(g[0] >= 0), bool(g[1] >= 0)),
        purchase_wedges=wedges)


__all__ = ["bargain", "BargainResult", "Deal", "DealPosition", "Point", "deal_2025", "threat_2025", "policy_defaults",
           "default_groups", "goods_sectors", "bilateral_war", "fact"]
