"""Bilateral Nash tariff war in group tariffs: the default disagreement point of ``bargain``.

Each player sets its group tariffs on the other as a best response (L-BFGS-B with exact
gradients), Gauss-Seidel; after each round Newton on both players' first-order conditions
(:func:`_nash_newton`) tries to finish, else the rounds go on to a fixed point; third
countries keep their tariffs. The result is verified: no player gains from re-solving its
best response at the returned profile.

References
----------
Ossa, R. (2014), "Trade Wars and Trade Talks with Data", AER 104(12), section III
(Nash tariff wars as the threat point of trade talks).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConvergenceError
from .game import BOUND_TOL, EV_SCALE, _Game, _lbfgsb, _Scaled

#: the first round of best responses only brings Newton near the war (its gradient tolerance, USD bn per unit tariff)
FIRST_ROUND_GTOL = 1e-6


def bilateral_war(game: _Game, tariff_bounds, *, max_rounds: int = 50, tol: float = 1e-7):
    """Bilateral Nash tariff war in group tariffs (T = 0): Gauss-Seidel best responses (Ossa 2014, III.B).

    Returns (x, EV, deviation gains in USD mn). Verified: each player's re-solved best response at
    the returned profile gains at most ``tol``-relative.
    """
    x = game.start()
    x[:game.n_t] = np.clip(x[:game.n_t], *tariff_bounds)
    x[-1] = 0.0

    def br(k, x, gtol=1e-10):
        free = np.r_[game.owner == k, False]
        sc = _Scaled(game, tariff_bounds, (0.0, 0.0), free)

        def fun(z):
            e, j = game.evaluate(sc.x(z, x))
            return -e[k] / EV_SCALE, -j[k][free] / EV_SCALE

        z, v, _, _ = _lbfgsb(fun, sc.z(x), sc.bounds(x), f"best response of {game.players[k]}", gtol=gtol)
        return sc.x(z, x), -v * EV_SCALE

    for r in range(max_rounds):
        x_old = x.copy()
        for k in (0, 1):
            x, _ = br(k, x, FIRST_ROUND_GTOL if r == 0 else 1e-10)
        if np.max(np.abs(x - x_old)) < 1e-6:
            break
        x_newton = _nash_newton(game, x, tariff_bounds)
        if x_newton is not None:        # both first-order conditions hold: verified below like a Gauss-Seidel point
            x = x_newton
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


def _nash_newton(game: _Game, x0: np.ndarray, tariff_bounds, max_steps: int = 8,
                 step_tol: float = 1e-9, fd_step: float = 1e-5) -> np.ndarray | None:
    """Newton on both players' first-order conditions ``d EV_k / d x_own(k) = 0`` (T = 0), from ``x0``.

    The Jacobian of the stacked conditions comes from the game's curvature columns (forward
    differences of the exact Jacobian, reused; refreshed once if Newton stalls). A tariff that a
    step pushes out of the box is clipped and held there while its own gradient points outwards;
    one whose gradient points inwards is released. Returns the point once a Newton step is below
    ``step_tol`` with every own Hessian negative definite (a local maximum for each player), else
    None (the caller goes on with best responses).
    """
    lo, hi = (float(b) for b in tariff_bounds)
    n = game.n_t
    x = np.array(x0, dtype=float)
    upper = np.r_[np.full(n, hi), 0.0]
    at_lo, at_hi = x[:n] <= lo + BOUND_TOL, x[:n] >= hi - BOUND_TOL
    refreshed, prev = False, np.inf
    for _ in range(max_steps + 1):
        e, j = game.evaluate(x)
        if not np.isfinite(e).all():
            return None
        own = j[game.owner, np.arange(n)]                      # d EV_owner(i) / d x_i
        at_lo &= own <= 0
        at_hi &= own >= 0
        inner = np.nonzero(~(at_lo | at_hi))[0]
        if inner.size == 0:
            return x
        res = float(np.max(np.abs(own[inner])))
        stalled = res > 0.5 * prev
        if stalled and refreshed:
            return None
        try:
            game.fill_curvature(x, inner, np.full(n + 1, fd_step), upper, refresh=stalled)
        except ConvergenceError:
            return None
        refreshed |= stalled
        prev = res
        # d (d EV_owner(r) / d x_r) / d x_c for rows r, columns c among the inner tariffs
        jac = np.array([[game.curvature[int(c)][game.owner[r], r] for c in inner] for r in inner])
        try:
            dx = np.linalg.solve(jac, -own[inner])
        except np.linalg.LinAlgError:
            return None
        if not np.isfinite(dx).all():
            return None
        if np.max(np.abs(dx)) <= step_tol:
            for k in (0, 1):                                   # second order: each player's own Hessian
                mine = game.owner[inner] == k
                sub = jac[np.ix_(mine, mine)]
                if mine.any() and np.linalg.eigvalsh(0.5 * (sub + sub.T)).max() >= 0:
                    return None
            return x
        x = x.copy()
        x[inner] += dx
        hit_lo, hit_hi = x[:n] < lo, x[:n] > hi
        x[:n] = np.clip(x[:n], lo, hi)
        at_lo, at_hi = at_lo | hit_lo, at_hi | hit_hi
        if hit_lo.any() or hit_hi.any():
            prev = np.inf
    return None


__all__ = ["bilateral_war"]
