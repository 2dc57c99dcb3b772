"""The Pareto frontier in (EV_home, EV_partner) by the epsilon-constraint method.

For a target ``u``: ``max EV[other] s.t. EV[who] >= u`` over the bounded instruments
(SLSQP with exact gradients through the equilibrium). ``bargain`` traces the
individually rational part of the frontier with it, warm-started along a grid of ``u``,
and ``locate_deal`` measures a deal's distance to it. SLSQP is a local method: the
frontier is the local one reached from the warm start (checked by the NBS efficiency gap).

References
----------
Haimes, Y., L. Lasdon and D. Wismer (1971), "On a bicriterion formulation of the
problems of integrated system identification and system optimization", IEEE
Trans. Systems, Man, and Cybernetics 1(3), 296-297 (epsilon-constraint method).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ..errors import ConvergenceError
from .game import EV_SCALE, _Game, _Scaled


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


def _dist_to_polyline(p: np.ndarray, pts: np.ndarray) -> float:
    """Euclidean distance from point ``p`` to the polyline through ``pts`` (rows)."""
    best = np.inf
    for a, b in zip(pts[:-1], pts[1:]):
        ab = b - a
        s = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-300), 0.0, 1.0)
        best = min(best, float(np.linalg.norm(p - (a + s * ab))))
    return best
