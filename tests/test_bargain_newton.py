"""The fast paths of ``bargain`` (issue 16): Newton-KKT frontier points, the Newton war, the NBS start, the kernel cache.

Each fast path is checked against an independent computation: SLSQP (the previous
frontier solver) from the same start, plain Gauss-Seidel best responses, the NBS found
by L-BFGS-B over all instruments, and the jit cache of the compiled kernel.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_bargain import ONE_GROUP, three_country_world

from tariffsim.strategy import war as war_mod
from tariffsim.strategy.bargain import _nash_slope, bargain
from tariffsim.strategy.frontier import (
    CON_TOL,
    _eps_constraint,
    _frontier_point,
    _kkt_newton,
    _slsqp_point,
)
from tariffsim.strategy.game import _ev_jacobian, _Game, _Scaled
from tariffsim.strategy.war import bilateral_war


@pytest.fixture(scope="module")
def world3():
    return three_country_world()


def _setup(world, transfer_bounds=(-30.0, 30.0)):
    game = _Game(world, ("USA", "JPN"), ONE_GROUP, "balanced")
    sc = _Scaled(game, (0.0, 2.0), transfer_bounds, np.ones(game.n_t + 1, dtype=bool))
    x_sq = game.start()
    x_sq[-1] = 0.0
    return game, sc, x_sq


def test_newton_frontier_point_equals_slsqp_from_the_same_start(world3):
    game, sc, x_sq = _setup(world3)
    x0, _ = _slsqp_point(game, sc, x_sq, -0.2, 0, what="start")           # a KKT point at EV_US = -0.2
    for target in (-0.15, 0.1, 0.6):
        p = _kkt_newton(game, sc, x0, target, 0)
        assert p is not None and p.steps >= 1 and p.lam > 0
        _, e_ref = _slsqp_point(game, sc, x0, target, 0, what="reference")
        assert abs(p.ev[0] - target) <= CON_TOL * max(np.abs(p.ev).max(), abs(target), 1.0)
        # Newton's point is at least as good as SLSQP's, and not better than SLSQP's tolerance allows
        assert p.ev[1] == pytest.approx(e_ref[1], abs=1e-9 * max(1.0, abs(e_ref[1])))


def test_newton_slope_is_the_frontier_slope(world3):
    """The multiplier lam is minus the frontier's slope d EV_JP / d EV_US (central differences of frontier points)."""
    game, sc, x_sq = _setup(world3)
    x0, _ = _slsqp_point(game, sc, x_sq, 0.1, 0, what="start")
    p = _frontier_point(game, sc, x0, 0.1, 0, what="centre")
    h = 1e-3
    up = _frontier_point(game, sc, p.x, 0.1 + h, 0, what="up")
    dn = _frontier_point(game, sc, p.x, 0.1 - h, 0, what="down")
    slope = (up.ev[1] - dn.ev[1]) / (up.ev[0] - dn.ev[0])
    assert -p.lam == pytest.approx(slope, rel=1e-5)


def test_newton_follows_the_frontier_when_the_transfer_hits_its_bound(world3):
    """Active-set change: with the transfer capped at 0.3, points beyond the cap are reached by tariffs alone."""
    game, sc, x_sq = _setup(world3, transfer_bounds=(-0.3, 0.3))
    x0, _ = _slsqp_point(game, sc, x_sq, 0.1, 0, what="start")
    assert -0.3 < x0[-1] < 0.3
    _, e_cap = _slsqp_point(game, sc, x0, 0.6, 0, what="reference")
    x, e = _eps_constraint(game, sc, x0, 0.6, 0, what="across the cap")
    assert x[-1] == pytest.approx(0.3, abs=1e-12)
    assert e[0] == pytest.approx(0.6, abs=1e-10)
    assert e[1] == pytest.approx(e_cap[1], abs=1e-9 * max(1.0, abs(e_cap[1])))


def test_unreachable_target_falls_back_on_slsqp(world3):
    """A target that does not bind (far below the partner's best): Newton cannot certify, SLSQP decides."""
    game, sc, x_sq = _setup(world3)
    x0, _ = _slsqp_point(game, sc, x_sq, 0.0, 0, what="start")
    assert _kkt_newton(game, sc, x0, -1e3, 0) is None
    x, e = _eps_constraint(game, sc, x0, -1e3, 0, what="slack")
    _, e_ref = _slsqp_point(game, sc, x0, -1e3, 0, what="reference")
    assert e[0] > -1e3 and e[1] == pytest.approx(e_ref[1], abs=1e-9)
    assert x[-1] == pytest.approx(-30.0)                       # the partner pays the home country nothing back


def test_newton_war_equals_gauss_seidel_and_satisfies_both_first_order_conditions(world3, monkeypatch):
    game, _, _ = _setup(world3)
    x_n, ev_n, dev_n = bilateral_war(game, (0.0, 2.0))
    assert (dev_n <= 1e-9).all()
    monkeypatch.setattr(war_mod, "_nash_newton", lambda *a, **k: None)
    x_gs, ev_gs, _ = bilateral_war(_Game(world3, ("USA", "JPN"), ONE_GROUP, "balanced"), (0.0, 2.0))
    assert x_n == pytest.approx(x_gs, abs=1e-6)                 # Gauss-Seidel stops at steps below 1e-6
    assert ev_n == pytest.approx(ev_gs, abs=1e-5)
    # each player's own tariff is a stationary point of its EV (central differences of the public solver)
    h = 1e-5
    for k in (0, 1):
        xp, xm = x_n.copy(), x_n.copy()
        xp[k] += h
        xm[k] -= h
        own = (game.ev_of(game.solve(game.tariffs(xp)))[k] - game.ev_of(game.solve(game.tariffs(xm)))[k]) / (2 * h)
        xp, xm = x_n.copy(), x_n.copy()
        xp[1 - k] += h
        xm[1 - k] -= h
        other = (game.ev_of(game.solve(game.tariffs(xp)))[k] - game.ev_of(game.solve(game.tariffs(xm)))[k]) / (2 * h)
        assert abs(own) <= 1e-6 * abs(other)


def test_nbs_start_sits_where_the_nash_product_is_flat(world3):
    """At the NBS (L-BFGS-B over all instruments), the Nash product's slope along the frontier vanishes."""
    r = bargain(world3, groups=ONE_GROUP, deal=None, n_frontier=6, security_value_usd={"JPN": 0.5},
                transfer_bounds=(-30.0, 30.0))
    game, sc, _ = _setup(world3)
    p = _frontier_point(game, sc, r.nbs.parameters, float(r.nbs.ev_usd[0]), 0, what="at the NBS")
    g = r.nbs.ev_usd - r.threat_values_usd
    assert abs(_nash_slope(p, r.threat_values_usd, r.beta)) <= 1e-6 * (r.beta / g[0])
    assert p.ev[1] == pytest.approx(r.nbs.ev_usd[1], abs=1e-8)


def test_kernel_compiles_once_per_shape_and_memoises_the_last_point(world3):
    g1 = _Game(world3, ("USA", "JPN"), ONE_GROUP, "balanced")
    x = g1.start()
    g1.evaluate(x)
    size = _ev_jacobian._cache_size()
    g2 = _Game(world3, ("USA", "JPN"), ONE_GROUP, "balanced")
    e1, j1 = g2.evaluate(x + 0.01)
    n = g2.n_eval
    e2, j2 = g2.evaluate(x + 0.01)
    assert _ev_jacobian._cache_size() == size                   # a second game of the same shapes compiles nothing
    assert g2.n_eval == n and (e1 == e2).all() and (j1 == j2).all()
    e2[0] = np.nan                                              # callers get copies
    assert np.isfinite(g2.evaluate(x + 0.01)[0]).all()
