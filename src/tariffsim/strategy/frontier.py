"""The Pareto frontier in (EV_home, EV_partner) by the epsilon-constraint method.

For a target ``u``: ``max EV[other] s.t. EV[who] >= u`` over the bounded instruments
(exact gradients through the equilibrium). ``bargain`` traces the individually rational
part of the frontier with it along a grid of ``u``, and ``locate_deal`` measures a deal's
distance to it.

Two solvers, one answer. From a point that already satisfies the first-order conditions
for a nearby target (the previous frontier point: parametric continuation), Newton's
method on the KKT system (:func:`_kkt_newton`: stationarity of the Lagrangian on the
instruments off their bounds, the binding constraint, the bounds' active set carried
along and revised by the multipliers' signs), with the Hessians of the two EVs by
forward differences of the exact Jacobians, computed once and reused along the path
(refreshed when Newton stalls); a second-order correction aims each step's linearised
constraint at the curvature it will meet. It returns only a certified point: the
objective gain the next Newton step predicts <= ``GAIN_TOL`` (relative), relative
stationarity <= ``STAT_TOL``, constraint within ``CON_TOL``, multipliers of the right
sign, and a negative definite Lagrangian Hessian on the constraint's tangent space.
Otherwise, and from a point that is no KKT point (the status quo), SLSQP
(:func:`_slsqp_point`). Both are local methods: the frontier is the local one reached
from the start (checked by the NBS efficiency gap in ``bargain``).

References
----------
Haimes, Y., L. Lasdon and D. Wismer (1971), "On a bicriterion formulation of the
problems of integrated system identification and system optimization", IEEE
Trans. Systems, Man, and Cybernetics 1(3), 296-297 (epsilon-constraint method).
Allgower, E. L. and K. Georg (1990), Numerical Continuation Methods, Springer, ch. 2
(predictor-corrector continuation of a solution path).
Nocedal, J. and S. J. Wright (2006), Numerical Optimization, 2nd ed., Springer,
ch. 12 and 18 (KKT conditions, second-order conditions, Newton-KKT steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from ..errors import ConvergenceError
from .game import BOUND_TOL, EV_SCALE, _Game, _Scaled

#: Newton-KKT acceptance, relative to the EVs' size ``max(|EV|, |target|, 1 USD mn)``: the objective gain the
#: next Newton step predicts and the constraint's violation; the relative stationarity (optimiser units)
GAIN_TOL = 1e-10
CON_TOL = 1e-9
STAT_TOL = 1e-6
#: an active bound is released when the Lagrangian's slope there points inwards by more than this (relative)
SIGN_TOL = 1e-8
#: a start is a KKT point for a nearby target when its relative stationarity is below this
START_TOL = 1e-3
#: forward-difference step of the Hessians, optimiser units (tariff 1e-5; transfer USD 0.1 mn)
FD_STEP = 1e-5
MAX_NEWTON = 12
#: SLSQP's tolerance (objective in USD bn) for a start that Newton then certifies; 1e-12 when SLSQP must finish alone
COARSE_FTOL = 1e-8


def _eps_constraint(game: _Game, sc: _Scaled, x0: np.ndarray, target: float, who: int, *, what: str):
    """max EV[1-who] s.t. EV[who] >= target; returns x, EV (2,) in USD mn (see :func:`_frontier_point`)."""
    p = _frontier_point(game, sc, x0, target, who, what=what)
    return p.x, p.ev


def _frontier_point(game: _Game, sc: _Scaled, x0: np.ndarray, target: float, who: int, *, what: str) -> KktPoint:
    """max EV[1-who] s.t. EV[who] >= target, with the constraint's multiplier (the frontier's slope).

    Newton on the KKT system when ``x0`` is a KKT point for a nearby target (continuation),
    else a coarse SLSQP solve that Newton then certifies; SLSQP alone (``ftol`` 1e-12, the
    previous method) when Newton cannot certify its point (``steps = -1``; ``lam`` is then the
    least-squares multiplier at SLSQP's point, NaN if none).
    Raises ConvergenceError when neither reaches a feasible optimum.
    """
    out = _kkt_newton(game, sc, x0, target, who)
    if out is None:             # no KKT start: a coarse SLSQP solve, then Newton certifies and polishes it
        try:
            x1, _ = _slsqp_point(game, sc, x0, target, who, what=what, ftol=COARSE_FTOL)
        except ConvergenceError:
            x1 = None
        out = None if x1 is None else _kkt_newton(game, sc, x1, target, who)
    if out is not None:
        return out
    x, e = _slsqp_point(game, sc, x0, target, who, what=what)
    _, go, gw = _gradients(game, sc, x, who)
    z = sc.z(x)
    free = np.nonzero(sc.free)[0]
    inner = (z > sc.lo[free] * sc.scale[free] + BOUND_TOL) & (z < sc.hi[free] * sc.scale[free] - BOUND_TOL)
    lam = _multiplier(go[inner], gw[inner]) if inner.any() else float("nan")
    return KktPoint(x, e, lam, _stationarity(go[inner], gw[inner], lam) if inner.any() else float("nan"), -1)


def _slsqp_point(game: _Game, sc: _Scaled, x0: np.ndarray, target: float, who: int, *, what: str,
                 ftol: float = 1e-12):
    """max EV[1-who] s.t. EV[who] >= target (SLSQP, exact gradients) from ``x0``; returns x, EV."""
    other = 1 - who

    def ev(z):
        return game.evaluate(sc.x(z, x0))      # the game memoises the last point (objective, then constraint)

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
                   constraints=[{"type": "ineq", "fun": con, "jac": con_jac}], options={"maxiter": 300, "ftol": ftol})
    x = sc.x(res.x, x0)
    e, _ = game.evaluate(x)
    if not np.isfinite(e).all():
        raise ConvergenceError(f"{what}: the equilibrium did not converge at the optimiser's last point")
    if (not res.success and res.status not in (8,)) or e[who] < target - 1e-5 * EV_SCALE:
        raise ConvergenceError(f"{what}: SLSQP failed ({res.message}); constraint gap {(target - e[who]):.3g} USD mn")
    return x, e


# =========================================================================== Newton on the KKT system
@dataclass(frozen=True)
class KktPoint:
    """A certified solution of ``max EV[other] s.t. EV[who] >= target``: the instruments ``x``, EV (2,) in USD mn,
    the constraint's multiplier ``lam`` (> 0), the relative stationarity reached and the Newton steps taken."""

    x: np.ndarray
    ev: np.ndarray
    lam: float
    stationarity: float
    steps: int


def _gradients(game: _Game, sc: _Scaled, x: np.ndarray, who: int):
    """EV (2,) and the gradients of EV[other], EV[who] in optimiser units over the free instruments, USD bn."""
    e, j = game.evaluate(x)
    free = np.nonzero(sc.free)[0]
    g = j[:, free] / sc.scale[free] / EV_SCALE
    return e, g[1 - who], g[who]


def _multiplier(go: np.ndarray, gw: np.ndarray) -> float:
    """Least-squares multiplier of ``go + lam gw = 0`` (NaN when ``gw`` vanishes)."""
    den = float(gw @ gw)
    return -float(go @ gw) / den if den > 0 else float("nan")


def _stationarity(go: np.ndarray, gw: np.ndarray, lam: float) -> float:
    """Relative stationarity ``|go + lam gw|_inf / (|go|_inf + lam |gw|_inf)`` (inf when both vanish)."""
    den = float(np.max(np.abs(go)) + abs(lam) * np.max(np.abs(gw))) if go.size else 0.0
    return float(np.max(np.abs(go + lam * gw))) / den if den > 0 else float("inf")


def _hessians(game: _Game, sc: _Scaled, x: np.ndarray, cols: np.ndarray, refresh: bool) -> np.ndarray:
    """Hessians (2, m, m) of both EVs over free instruments ``cols`` (indices into the free ones), optimiser units, USD bn.

    From the game's curvature columns (forward differences of the exact Jacobian, step
    ``FD_STEP`` in optimiser units, computed where missing or when ``refresh``); symmetrised.
    """
    free = np.nonzero(sc.free)[0]
    ks = free[cols]
    game.fill_curvature(x, ks, FD_STEP / sc.scale, sc.hi, refresh=refresh)
    hz = np.stack([game.curvature[int(k)][:, ks] for k in ks], axis=2)            # (2, m, m): [:, a, b] = d2 EV / dx_a dx_b
    hz = hz / np.outer(sc.scale[ks], sc.scale[ks]) / EV_SCALE
    return 0.5 * (hz + hz.transpose(0, 2, 1))


def _second_order_ok(hl: np.ndarray, gw: np.ndarray) -> bool:
    """The Lagrangian Hessian ``hl`` is negative semi-definite on the tangent space ``{d: gw . d = 0}`` (to 1e-6 relative)."""
    if len(gw) <= 1:
        return True
    q, _ = np.linalg.qr(np.c_[gw, np.eye(len(gw))])
    basis = q[:, 1:len(gw)]
    red = basis.T @ hl @ basis
    eig = np.linalg.eigvalsh(0.5 * (red + red.T))
    return bool(eig.max() <= 1e-6 * max(float(np.abs(hl).max()), 1e-300))


def _kkt_newton(game: _Game, sc: _Scaled, x0: np.ndarray, target: float, who: int,
                max_steps: int = MAX_NEWTON) -> KktPoint | None:
    """Newton on the KKT system of ``max EV[other] s.t. EV[who] >= target``, continued from the KKT point ``x0``.

    Unknowns: the free instruments off their bounds and the multiplier ``lam``; equations:
    ``grad EV[other] + lam grad EV[who] = 0`` on them and ``EV[who] = target``. A step that leaves
    the box is clipped and the instrument joins the active set; an active instrument whose
    multiplier has the wrong sign is released. Returns None (the caller falls back on SLSQP)
    when ``x0`` is no KKT point for a nearby target, when a step fails, or when the point
    reached cannot be certified (see the module docstring).
    """
    free = np.nonzero(sc.free)[0]
    z_lo, z_hi = sc.lo[free] * sc.scale[free], sc.hi[free] * sc.scale[free]
    z = sc.z(x0)
    x = np.array(x0, dtype=float)
    e, go, gw = _gradients(game, sc, x, who)
    if not np.isfinite(e).all():
        return None
    at_lo, at_hi = z <= z_lo + BOUND_TOL, z >= z_hi - BOUND_TOL
    inner = ~(at_lo | at_hi)
    if not inner.any():
        return None
    snapped = np.where(at_lo, z_lo, np.where(at_hi, z_hi, z))
    if (snapped != z).any():                                  # instruments within BOUND_TOL of a bound sit on it
        z, x = snapped, sc.x(snapped, x0)
        e, go, gw = _gradients(game, sc, x, who)
        if not np.isfinite(e).all():
            return None
    lam = _multiplier(go[inner], gw[inner])
    if not (np.isfinite(lam) and lam > 0) or _stationarity(go[inner], gw[inner], lam) > START_TOL:
        return None
    refreshed, changes, prev_merit = False, 0, np.inf
    for step in range(max_steps + 1):
        gl = go + lam * gw
        tol_g = SIGN_TOL * (np.max(np.abs(go)) + lam * np.max(np.abs(gw)))
        wrong = (at_lo & (gl > tol_g)) | (at_hi & (gl < -tol_g))
        if wrong.any():                                       # release: moving off the bound pays
            at_lo, at_hi = at_lo & ~wrong, at_hi & ~wrong
            changes += 1
            prev_merit = np.inf
        inner = ~(at_lo | at_hi)
        if not inner.any() or changes > 2 * len(z):
            return None
        c = (e[who] - target) / EV_SCALE
        stat = _stationarity(go[inner], gw[inner], lam)
        cols = np.nonzero(inner)[0]
        size = max(float(np.max(np.abs(e))), abs(float(target)), 1.0) / EV_SCALE        # USD bn
        merit = max(stat / STAT_TOL, abs(c) / (CON_TOL * size))
        stalled = merit > 0.5 * prev_merit
        if stalled and refreshed:
            return None
        try:
            h = _hessians(game, sc, x, cols, refresh=stalled)
        except ConvergenceError:                              # a difference step failed: SLSQP decides
            return None
        refreshed |= stalled
        prev_merit = merit
        hl = h[1 - who] + lam * h[who]
        m = len(cols)
        kkt = np.zeros((m + 1, m + 1))
        kkt[:m, :m], kkt[:m, m], kkt[m, :m] = hl, gw[inner], gw[inner]
        try:
            dy = np.linalg.solve(kkt, -np.r_[gl[inner], c])
        except np.linalg.LinAlgError:
            return None
        if not np.isfinite(dy).all():
            return None
        gain = abs(float(gl[inner] @ dy[:m] + 0.5 * dy[:m] @ hl @ dy[:m]))     # what the next step would add, USD bn
        if not wrong.any() and abs(c) <= CON_TOL * size and stat <= STAT_TOL and gain <= GAIN_TOL * size:
            if lam <= 0 or not _second_order_ok(hl, gw[inner]):
                return None
            return KktPoint(x, e, float(lam), stat, step)
        if step == max_steps:
            return None
        # second-order correction of the constraint: EV[who] along the step bends by d' H_who d / 2
        # (the curvature is known), so aim the linearised constraint at that much more
        d = dy[:m]
        dy = np.linalg.solve(kkt, -np.r_[gl[inner], c + 0.5 * d @ h[who] @ d])
        z = z.copy()
        z[inner] += dy[:m]
        lam += dy[m]
        hit_lo, hit_hi = inner & (z < z_lo), inner & (z > z_hi)
        if hit_lo.any() or hit_hi.any():                      # clip to the box; those instruments become active
            z = np.clip(z, z_lo, z_hi)
            at_lo, at_hi = at_lo | hit_lo, at_hi | hit_hi
            changes += 1
            prev_merit = np.inf
        x = sc.x(z, x0)
        e, go, gw = _gradients(game, sc, x, who)
        if not np.isfinite(e).all():
            return None
    return None


def _dist_to_polyline(p: np.ndarray, pts: np.ndarray) -> float:
    """Euclidean distance from point ``p`` to the polyline through ``pts`` (rows)."""
    best = np.inf
    for a, b in zip(pts[:-1], pts[1:]):
        ab = b - a
        s = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-300), 0.0, 1.0)
        best = min(best, float(np.linalg.norm(p - (a + s * ab))))
    return best
