"""Certify a Caliendo-Parro equilibrium from the arrays a solve returns, and
refuse economies in which no equilibrium can exist.

The solver iterates on a reduced system: N - 1 labour markets plus the
numeraire (Walras' law makes one market redundant in exact arithmetic), with
prices and spending solved inside. A small residual of *that* system does not
certify the economy in floating point: the market left out inherits the
others' absolute errors, which for a country 1e-9 the size of the rest is a
large relative error. So every result is checked here, in numpy, against
every condition of the model, each relative to its own scale (CP 2015, eq.
10-14, docs/design.md §4)::

    cost       log c_hat[i,j] = va[i,j] log w_hat[i] + sum_k io[i,k,j] log P_hat[i,k]     (10)
    price      log P_hat[n,j] = CES index of tau_hat c_hat at baseline shares pi           (11)
    share      pi1[i,n,j] = pi[i,n,j] (tau_hat c_hat[i,j] / P_hat[n,j])^-theta_j          (12)
    flows      flows[i,n,j] = pi1[i,n,j] X1[n,j] / (1 + t1[i,n,j])
    spending   X1[n,j] = sum_k io[n,j,k] Y1[n,k] + alpha[n,j] I1[n]                       (13)
    income     I1[n] = w_hat[n] VA[n] + sum_{i,j} t1[i,n,j] flows[i,n,j] + D1[n]
    labour     sum_j va[n,j] Y1[n,j] = w_hat[n] VA[n], for every n                        (14)
    numeraire  sum_n w_hat[n] VA[n] = sum_n VA[n]
    balance    imports[n] - exports[n] = D1[n]   (= purchases - sales: domestic sales cancel)
    welfare    W_hat[n] = (I1[n] / I0[n]) / prod_j P_hat[n,j]^alpha[n,j]

with ``Y1[n,j] = sum_m flows[n,m,j]``. Scales: log points for cost and price,
each cell for shares and flows, country n's total spending for its spending
rows, the sum of the absolute terms for income, ``w_hat VA`` for each labour
market, world value added for the numeraire, n's purchases plus sales plus
``|D1|`` for its balance, ``W_hat`` for welfare.

:func:`check_feasible` runs before a solve: a group of countries that buys
nothing from the rest of the world (along trade links present in the data,
which the model cannot create) but sells to it must run a trade surplus,
since its imports from outside are zero at any prices. Under balanced trade
(D1 = 0) no equilibrium exists; the solver would otherwise drive the other
countries' wages towards zero and could report that as converged.

References
----------
Caliendo, L. and F. Parro (2015), "Estimates of the Trade and Welfare Effects of
NAFTA", Review of Economic Studies 82(1), 1-44, equations (10)-(14).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..errors import ConvergenceError

#: Above this exponent the centred (expm1/log1p) form of the CES index could overflow:
#: the max-shifted log-sum-exp is used there (it is accurate when theta * spread is large).
LSE_SWITCH = 20.0


def np_log_price(log_c: np.ndarray, log_tau_hat: np.ndarray, pi0: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """CES price index change (CP eq. 11) in a form exact as theta -> 0 (numpy).

    With ``z[i] = log(tau_hat c_hat)[i]``, ``zbar = sum_i pi z`` and ``a = -theta (z - zbar)``::

        log P_hat = zbar - log(sum_i pi e^a) / theta,    log(sum_i pi e^a) = log1p(sum_i pi expm1(a))

    Since ``sum_i pi a = 0`` the first-order terms cancel analytically, and the
    Cobb-Douglas limit ``log P_hat -> sum_i pi log(tau_hat c_hat)`` is reached with
    no cancellation error. Importer-sectors with no baseline spending keep P_hat = 1.
    """
    z = log_tau_hat + log_c[:, None, :]
    has = pi0 > 0
    tot = pi0.sum(axis=0)
    empty = tot <= 0
    wn = np.where(has, pi0, 0.0) / np.where(empty, 1.0, tot)
    zs = np.where(has, z, 0.0)
    zbar = (wn * zs).sum(axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.where(has, -theta[None, None, :] * (zs - zbar[None]), -np.inf)
        amax = a.max(axis=0)
        amax = np.where(np.isfinite(amax), amax, 0.0)
        x = (wn * np.expm1(np.where(has, np.minimum(a, LSE_SWITCH), 0.0))).sum(axis=0)
        s = (wn * np.exp(np.where(has, a - amax[None], -np.inf))).sum(axis=0)
        shifted = np.log(np.where(s > 0, s, 1.0)) + amax
        centred = (amax <= LSE_SWITCH) & (x > -0.5)
        lse = np.where(centred, np.log1p(np.where(centred, x, 0.0)), shifted)
    return np.where(empty, 0.0, zbar - lse / theta[None, :])


@dataclass(frozen=True)
class Certificate:
    """Largest relative violation of each equilibrium condition, and where it occurs."""

    violations: Mapping[str, float]
    where: Mapping[str, str]

    @property
    def max(self) -> float:
        """Largest violation over every condition (inf when any number is not finite)."""
        return max(self.violations.values())

    @property
    def worst(self) -> tuple[str, float, str]:
        """``(condition, violation, location)`` of the largest violation."""
        k = max(self.violations, key=lambda c: self.violations[c])
        return k, self.violations[k], self.where.get(k, "")

    def summary(self) -> str:
        """One line: each condition's largest violation and where it occurs."""
        return "; ".join(f"{k} {v:.2e}" + (f" ({self.where[k]})" if self.where.get(k) else "")
                         for k, v in self.violations.items())


def _worst(v: np.ndarray, labels: Sequence[Sequence[str]]) -> tuple[float, str]:
    v = np.where(np.isnan(v), np.inf, np.abs(v))
    if v.size == 0:
        return 0.0, ""
    idx = np.unravel_index(int(np.argmax(v)), v.shape)
    return float(v[idx]), ", ".join(repr(labels[d][k]) for d, k in enumerate(idx))


def _rel(diff: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``|diff| / scale``, 0 where both vanish, inf where only the scale does."""
    diff, scale = np.abs(diff), np.abs(scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), np.where(diff > 0, np.inf, 0.0))
    return np.where(np.isnan(out), np.inf, out)


def certify(p, sol, regions: Sequence[str], sectors: Sequence[str]) -> Certificate:
    """Check every equilibrium condition (module docstring) at a solution.

    ``p`` holds the kernel parameters (``GEParams``: pi0, t0, t1, theta, va, io,
    alpha, va0, d1, i0) and ``sol`` the returned arrays (``GESolution``: wage_hat,
    price_hat, cost_hat, trade_share, expenditure, flows, income, welfare_hat);
    any array-likes. Nothing is taken from the solver's own residual.
    """
    g = {k: np.asarray(v, dtype=float) for k, v in p._asdict().items()}
    w, P, c = (np.asarray(x, dtype=float) for x in (sol.wage_hat, sol.price_hat, sol.cost_hat))
    pi1, X1, F = (np.asarray(x, dtype=float) for x in (sol.trade_share, sol.expenditure, sol.flows))
    inc, W = np.asarray(sol.income, dtype=float), np.asarray(sol.welfare_hat, dtype=float)
    R, S = tuple(regions), tuple(sectors)
    viol: dict[str, float] = {}
    where: dict[str, str] = {}

    def put(name: str, v: np.ndarray, labels) -> None:
        viol[name], where[name] = _worst(v, labels)

    arrays_ok = all(np.isfinite(a).all() for a in (w, P, c, pi1, X1, F, inc, W)) and (w > 0).all() \
        and (P > 0).all() and (c > 0).all()
    if not arrays_ok:
        return Certificate({"finite": np.inf}, {"finite": "non-finite or non-positive wages, prices or flows"})
    with np.errstate(divide="ignore"):
        log_w, log_p, log_c = np.log(w), np.log(P), np.log(c)
    log_tau_hat = np.log1p(g["t1"]) - np.log1p(g["t0"])
    theta = g["theta"]
    put("cost", log_c - (g["va"] * log_w[:, None] + np.einsum("ikj,ik->ij", g["io"], log_p)), (R, S))
    put("price", log_p - np_log_price(log_c, log_tau_hat, g["pi0"], theta), (R, S))
    has = g["pi0"] > 0
    with np.errstate(over="ignore", invalid="ignore"):
        pi_exp = np.where(has, g["pi0"] * np.exp(-theta[None, None, :] * (log_tau_hat + log_c[:, None, :] - log_p[None])), 0.0)
    put("share", _rel(pi1 - pi_exp, pi_exp), (R, R, S))
    f_exp = pi1 * X1[None] / (1.0 + g["t1"])
    put("flows", _rel(F - f_exp, f_exp), (R, R, S))
    Y1 = F.sum(axis=1)
    x_exp = np.einsum("njk,nk->nj", g["io"], Y1) + g["alpha"] * inc[:, None]
    put("spending", _rel(X1 - x_exp, np.broadcast_to(np.abs(X1).sum(axis=1, keepdims=True), X1.shape)), (R, S))
    wva = w * g["va0"]
    rev = np.einsum("inj,inj->n", g["t1"], F)
    put("income", _rel(inc - (wva + rev + g["d1"]), np.abs(wva) + np.abs(rev) + np.abs(g["d1"])), (R,))
    put("labour", _rel((g["va"] * Y1).sum(axis=1) - wva, wva), (R,))
    put("numeraire", _rel(np.array([wva.sum() - g["va0"].sum()]), np.array([g["va0"].sum()])), (("world",),))
    # imports - exports = purchases - sales (domestic sales cancel): scaled by purchases + sales
    purchases, sales = F.sum(axis=(0, 2)), F.sum(axis=(1, 2))
    put("balance", _rel(purchases - sales - g["d1"], purchases + sales + np.abs(g["d1"])), (R,))
    w_exp = (inc / g["i0"]) * np.exp(-(g["alpha"] * log_p).sum(axis=1))
    put("welfare", _rel(W - w_exp, w_exp), (R,))
    return Certificate(viol, where)


def _reach(adj: np.ndarray) -> np.ndarray:
    """Transitive closure (reflexive) of a boolean adjacency matrix (Warshall)."""
    r = adj | np.eye(len(adj), dtype=bool)
    for k in range(len(adj)):
        r = r | (r[:, k:k + 1] & r[k:k + 1, :])
    return r


def check_feasible(flows: np.ndarray, d1: np.ndarray, regions: Sequence[str], *, closure: str) -> None:
    """Refuse deficits no equilibrium can deliver, given which trade links exist.

    Trade shares that are zero in the data stay zero (CP eq. 12), so the
    exporter -> importer links of ``flows`` are fixed. Let ``U`` be a country
    and every country with a trade path into it: nothing enters ``U`` from
    outside, so ``sum_U D1 = sum_U (imports - exports) = -(sales of U to the
    rest)``, which must be negative when ``U`` sells to the rest (CES demand is
    positive at any finite price) and zero when it does not. Symmetrically, a
    country and everyone it reaches by trade, ``V``, sell nothing outside, so
    ``sum_V D1`` must be positive when ``V`` buys from outside. These
    conditions are necessary; they decide balanced trade exactly (feasible only
    when every trade link lies inside a group of countries that trade in a
    circle) and always hold with deficits fixed at their baseline values.

    Raises :class:`ConvergenceError` ("no equilibrium exists") naming the
    smallest group of countries at fault.
    """
    n = len(regions)
    off = flows * (1.0 - np.eye(n))[:, :, None]
    value = off.sum(axis=2)                           # value[i, m]: i's sales to m, USD mn
    link = value > 0
    reach = _reach(link)                              # reach[i, m]: a trade path from i to m
    scale = max(float(np.abs(flows).sum()), 1.0)
    faults: list[tuple[int, str]] = []
    for k in range(n):
        for upstream in (True, False):
            inside = reach[:, k] if upstream else reach[k, :]
            group = np.nonzero(inside)[0]
            crossing = float((value[np.ix_(inside, ~inside)] if upstream else value[np.ix_(~inside, inside)]).sum())
            d = float(d1[inside].sum())
            one = len(group) == 1
            who = ("country " if one else "countries ") + ", ".join(repr(regions[i]) for i in group)
            if crossing > 0 and (d >= -1e-9 * crossing if upstream else d <= 1e-9 * crossing):
                verb, other, need = (("imports", "exports", "surplus") if upstream else ("exports", "imports", "deficit"))
                if not one:
                    verb, other = verb[:-1], other[:-1]
                why = "balanced trade forbids it" if closure == "balanced" else f"the given deficits sum to {d:.6g} there"
                faults.append((len(group), f"no equilibrium exists: {who} {verb} nothing {'from' if upstream else 'to'} "
                                           f"the rest of the world but {other} {crossing:.6g} USD mn "
                                           f"{'to' if upstream else 'from'} it in the data, so "
                                           f"{'it' if one else 'together they'} must run a trade {need}; {why}"))
            elif upstream and crossing == 0 and abs(d) > 1e-9 * scale:   # an island: nothing in, nothing out
                faults.append((len(group), f"no equilibrium exists: {who} {'trades' if one else 'trade'} with no one outside "
                                           f"{'itself' if one else 'the group'}, so {'its deficit' if one else 'their deficits'} "
                                           f"must sum to zero, got {d:.6g} USD mn"))
    if faults:
        raise ConvergenceError(min(faults)[1])
