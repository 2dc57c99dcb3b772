"""Bilateral Nash tariff war in group tariffs: the default disagreement point of ``bargain``.

Each player sets its group tariffs on the other as a best response (L-BFGS-B with exact
gradients), Gauss-Seidel until a fixed point; third countries keep their tariffs. The
result is verified: no player gains from re-solving its best response at the returned
profile.

References
----------
Ossa, R. (2014), "Trade Wars and Trade Talks with Data", AER 104(12), section III
(Nash tariff wars as the threat point of trade talks).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConvergenceError
from .game import EV_SCALE, _Game, _lbfgsb, _Scaled


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


__all__ = ["bilateral_war"]
