"""Nash bargaining, Pareto frontier and deals (docs/design.md §5; issue 6).

Every check is independent of the optimiser's own output: brute-force grids of
instruments solved by the public ``solve``, first-order conditions by finite
differences, symmetry, and reductions (T = 0 and no pledges = tariffs only).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tariffsim.errors import ScenarioError
from tariffsim.models.base import bind_model
from tariffsim.models.ge import solve
from tariffsim.strategy.bargain import bargain
from tariffsim.strategy.deal import Deal, deal_outcome
from tariffsim.strategy.facts import policy_defaults
from tariffsim.strategy.game import _Game
from tariffsim.strategy.war import bilateral_war
from tariffsim.world import World

ONE_GROUP = {"USA": {"all": ("1", "2")}, "JPN": {"all": ("1", "2")}}


def three_country_world() -> World:
    """USA, JPN, ROW; two goods sectors and one untaxed service sector; unbalanced trade."""
    rng = np.random.default_rng(7)
    f = rng.uniform(5.0, 20.0, size=(3, 3, 3))
    for i in range(3):
        f[i, i] *= 8.0
    t = np.full((3, 3, 3), 0.04)
    t[..., 2] = 0.0
    for i in range(3):
        t[i, i] = 0.0
    return World.from_arrays(regions=("USA", "JPN", "ROW"), sectors=("1", "2", "3"), flows=f, tariffs=t,
                             theta=np.array([5.0, 6.0, 4.0]), sector_names=("Agriculture", "Motor vehicles", "Services"),
                             name="three")


def symmetric_world() -> World:
    """Two identical countries, one sector, balanced trade, 5% tariffs both ways."""
    f = np.array([[[80.0], [20.0]], [[20.0], [80.0]]])
    t = np.array([[[0.0], [0.05]], [[0.05], [0.0]]])
    return World.from_arrays(regions=("USA", "JPN"), sectors=("1",), flows=f, tariffs=t, theta=5.0,
                             sector_names=("Goods",), name="symmetric")


@pytest.fixture(scope="module")
def world3():
    return three_country_world()


@pytest.fixture(scope="module")
def small_bargain(world3):
    return bargain(world3, groups=ONE_GROUP, deal=None, n_frontier=12, security_value_usd={"JPN": 0.5},
                   transfer_bounds=(-30.0, 30.0))


def _ev_grid(world, rates_us, rates_jp, transfers, closure="balanced"):
    """Brute force: EV of (USA, JPN) for every grid point, by the public solver."""
    wb = bind_model(world, closure=closure).world
    a, b = wb.index("USA"), wb.index("JPN")
    goods = [0, 1]
    out = []
    for ru, rj, T in itertools.product(rates_us, rates_jp, transfers):
        t = np.array(wb.tariffs)
        t[b, a, goods] = ru
        t[a, b, goods] = rj
        d = np.zeros(wb.n_regions) if closure == "balanced" else np.array(wb.deficit_usd)
        d[a] += T
        d[b] -= T
        ev = solve(wb, tariffs=t, deficits=d).ev_usd
        out.append((ru, rj, T, ev[a], ev[b]))
    return np.array(out)


def test_nbs_weakly_better_than_disagreement_for_both(small_bargain):
    g = small_bargain.nbs.ev_usd - small_bargain.threat_values_usd
    assert (g >= 0).all()
    assert small_bargain.threat_values_usd[1] == pytest.approx(small_bargain.disagreement.ev_usd[1] - 0.5)


def test_nbs_is_on_the_frontier_and_beats_a_brute_force_grid(small_bargain, world3):
    r = small_bargain
    assert r.nbs_frontier_gap_usd <= 1e-6 * max(1.0, abs(r.nbs.ev_usd).max())
    grid = _ev_grid(world3, np.linspace(0, 0.3, 4), np.linspace(0, 0.3, 4), np.linspace(-3, 3, 13))
    d = r.threat_values_usd
    gains = grid[:, 3:] - d
    ok = (gains > 0).all(axis=1)
    nash_grid = r.beta * np.log(gains[ok, 0]) + (1 - r.beta) * np.log(gains[ok, 1])
    g_nbs = r.nbs.ev_usd - d
    nash_nbs = r.beta * np.log(g_nbs[0]) + (1 - r.beta) * np.log(g_nbs[1])
    assert nash_nbs >= nash_grid.max() - 1e-9
    # no grid point Pareto-dominates the NBS
    dom = (grid[:, 3] >= r.nbs.ev_usd[0] + 1e-7) & (grid[:, 4] >= r.nbs.ev_usd[1] + 1e-7)
    assert not dom.any()


def test_frontier_lies_above_every_brute_force_point(small_bargain, world3):
    r = small_bargain
    fe = r.frontier_ev_usd
    assert len(fe) == 12 and np.all(np.diff(fe[:, 0]) > 0) and np.all(np.diff(fe[:, 1]) < 0)
    grid = _ev_grid(world3, np.linspace(0, 0.4, 4), np.linspace(0, 0.4, 4), np.linspace(-8, 8, 9))
    inside = (grid[:, 3] >= fe[0, 0]) & (grid[:, 3] <= fe[-1, 0])
    assert inside.sum() >= 10
    v_front = np.interp(grid[inside, 3], fe[:, 0], fe[:, 1])
    # chords of the concave frontier lie a little below it: allow 1e-5 of its span
    tol = 1e-5 * (fe[:, 1].max() - fe[:, 1].min())
    assert (grid[inside, 4] <= v_front + tol).all()


def test_frontier_points_are_exact_equilibria(small_bargain, world3):
    r = small_bargain
    wb = bind_model(world3, closure="balanced").world
    a, b = wb.index("USA"), wb.index("JPN")
    for k in (0, 5, 11):
        x = r.frontier_parameters[k]
        t = np.array(wb.tariffs)
        t[b, a, [0, 1]] = x[0]
        t[a, b, [0, 1]] = x[1]
        ev = solve(wb, tariffs=t, deficits={"USA": x[2], "JPN": -x[2], "ROW": 0.0}).ev_usd
        assert ev[[a, b]] == pytest.approx(r.frontier_ev_usd[k], abs=1e-8)


def test_nbs_first_order_condition_by_finite_differences(small_bargain, world3):
    """Interior transfer: beta/g_US * dEV_US/dT + (1 - beta)/g_JP * dEV_JP/dT = 0 (finite differences)."""
    r = small_bargain
    T = r.nbs.transfer_usd
    assert -30 < T < 30
    wb = bind_model(world3, closure="balanced").world
    a, b = wb.index("USA"), wb.index("JPN")
    x = r.nbs.parameters

    def ev(Tv):
        t = np.array(wb.tariffs)
        t[b, a, [0, 1]] = x[0]
        t[a, b, [0, 1]] = x[1]
        return solve(wb, tariffs=t, deficits={"USA": Tv, "JPN": -Tv, "ROW": 0.0}).ev_usd[[a, b]]

    h = 1e-3
    dev = (ev(T + h) - ev(T - h)) / (2 * h)
    g = r.nbs.ev_usd - r.threat_values_usd
    foc = r.beta / g[0] * dev[0] + (1 - r.beta) / g[1] * dev[1]
    assert abs(foc) < 1e-5 * (abs(r.beta / g[0] * dev[0]) + 1e-12)


def test_kernel_jacobian_matches_finite_differences(world3):
    game = _Game(world3, ("USA", "JPN"), ONE_GROUP, "balanced")
    x = np.array([0.12, 0.07, 2.0])
    ev, jac = game.evaluate(x)
    for k, h in enumerate((1e-6, 1e-6, 1e-4)):
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        fd = (game.ev_of(game.solve(game.tariffs(xp), xp[-1])) - game.ev_of(game.solve(game.tariffs(xm), xm[-1]))) / (2 * h)
        assert jac[:, k] == pytest.approx(fd, rel=1e-5, abs=1e-9)
    assert ev == pytest.approx(game.ev_of(game.solve(game.tariffs(x), x[-1])), abs=1e-10)


def test_bilateral_war_has_no_profitable_deviation_on_a_grid(world3):
    game = _Game(world3, ("USA", "JPN"), ONE_GROUP, "balanced")
    x, ev, dev = bilateral_war(game, (0.0, 2.0))
    assert (dev <= 1e-6).all()
    for k in (0, 1):
        for r in np.linspace(max(x[k] - 0.1, 0), x[k] + 0.1, 21):
            y = x.copy()
            y[k] = r
            e = game.ev_of(game.solve(game.tariffs(y)))
            assert e[k] <= ev[k] + 1e-9


def test_symmetric_economy_gives_symmetric_war_and_free_trade_bargain():
    w = symmetric_world()
    r = bargain(w, groups={"USA": {"all": ("1",)}, "JPN": {"all": ("1",)}}, deal=None, n_frontier=6,
                security_value_usd={"USA": 0.0, "JPN": 0.0}, transfer_bounds=(-20.0, 20.0))
    xd = r.disagreement.parameters
    assert xd[0] == pytest.approx(xd[1], rel=1e-5)            # symmetric Nash tariffs
    assert r.disagreement.ev_usd[0] == pytest.approx(r.disagreement.ev_usd[1], rel=1e-6)
    # efficient bargain in a symmetric, otherwise undistorted economy: free trade, no transfer, equal gains
    assert r.nbs.parameters[:2] == pytest.approx([0.0, 0.0], abs=1e-6)
    assert r.nbs.transfer_usd == pytest.approx(0.0, abs=1e-5)
    assert r.nbs.ev_usd[0] == pytest.approx(r.nbs.ev_usd[1], rel=1e-4)


def test_transfer_zero_and_no_pledge_reduce_to_tariffs_only(world3):
    deal = Deal(name="tariffs only", home_tariff_floor=0.15, pledge_usd=0.0, grant_share=0.3)
    kw = dict(groups=ONE_GROUP, deal=deal, n_frontier=5, security_value_usd={"JPN": 0.0})
    r0 = bargain(world3, instruments=("us_tariffs", "jpn_tariffs", "transfer"), transfer_bounds=(0.0, 0.0), **kw)
    r1 = bargain(world3, instruments=("us_tariffs", "jpn_tariffs"), **kw)
    assert r0.nbs.ev_usd == pytest.approx(r1.nbs.ev_usd, abs=1e-8)
    assert r0.nbs.transfer_usd == 0.0 and r1.nbs.transfer_usd == 0.0
    assert r0.frontier_ev_usd == pytest.approx(r1.frontier_ev_usd, abs=1e-7)
    # the deal is then a pure tariff change: the same as solve() with deficits untouched
    wb = bind_model(world3, closure="balanced").world
    t = np.array(wb.tariffs)
    t[1, 0, [0, 1]] = np.maximum(t[1, 0, [0, 1]], 0.15)
    ev = solve(wb, tariffs=t, closure="balanced").ev_usd[[0, 1]]
    assert r1.deal.point.ev_usd == pytest.approx(ev, abs=1e-9)
    assert r1.deal.gap_partner_usd >= -1e-7 and r1.deal.gap_home_usd >= -1e-7


def test_pledge_is_a_transfer_of_pledge_times_grant_share(world3):
    game = _Game(world3, ("USA", "JPN"), ONE_GROUP, "balanced")
    eq, wedges = deal_outcome(game, Deal(pledge_usd=40.0, grant_share=0.05))
    assert wedges == {}
    assert eq.deficits[0] - np.asarray(game.base.d1)[0] == pytest.approx(2.0)
    assert eq.deficits[1] - np.asarray(game.base.d1)[1] == pytest.approx(-2.0)


def test_purchase_commitment_reaches_the_pledged_value(world3):
    game = _Game(world3, ("USA", "JPN"), ONE_GROUP, "balanced")
    f0 = np.asarray(game.world.flows)[0, 1]
    eq, wedges = deal_outcome(game, Deal(home_tariff_floor=0.15, purchases_usd={"ag": (("1",), 1.5)}))
    assert np.asarray(eq.flows)[0, 1, 0] == pytest.approx(f0[0] + 1.5, rel=1e-9)
    assert 0 < wedges["ag"] < 1      # an import-subsidy equivalent: Japan's price of US farm goods falls
    assert eq.tariffs[0, 1, 0] < game.world.tariffs[0, 1, 0]


def test_beta_shifts_gains_towards_the_stronger_player(world3):
    kw = dict(groups=ONE_GROUP, deal=None, n_frontier=4, security_value_usd={"JPN": 0.0}, transfer_bounds=(-30.0, 30.0))
    lo, hi = bargain(world3, beta=0.3, **kw), bargain(world3, beta=0.7, **kw)
    assert hi.nbs_gains_usd[0] > lo.nbs_gains_usd[0] and hi.nbs_gains_usd[1] < lo.nbs_gains_usd[1]


def test_invalid_options_raise_scenario_error(world3):
    with pytest.raises(ScenarioError):
        bargain(world3, beta=1.2)
    with pytest.raises(ScenarioError):
        bargain(world3, instruments=("quotas",))
    with pytest.raises(ScenarioError):
        bargain(world3, players=("USA", "USA"))


def test_defaults_come_with_sources():
    df = policy_defaults()
    row = df.filter(df["name"] == "security_value_usd[JPN]").to_dicts()[0]
    assert row["value"] == pytest.approx(20.9e3 / 4)          # GAO-21-270: USD 20.9bn over 2016-2019
    assert "GAO-21-270" in row["source"] and row["vary"]
    assert (df["source"].str.len_chars() > 0).all()


def test_disagreement_accepts_a_threat_point(world3):
    from datetime import date

    from tariffsim.strategy.threat import ThreatPoint

    wb = bind_model(world3, closure="balanced").world
    t = np.array(wb.tariffs)
    t[1, 0, [0, 1]] += 0.25                                    # a US threat on Japan's goods
    tp = ThreatPoint(date=date(2026, 12, 1), home="USA", partner="JPN", regime="after the IEEPA ruling",
                     parameters={}, instruments=(), tariff_rate=t, label="threat point 2026-12-01")
    r = bargain(world3, groups=ONE_GROUP, deal=None, n_frontier=3, security_value_usd={"JPN": 0.0},
                disagreement=tp, transfer_bounds=(-30.0, 30.0))
    ev = solve(wb, tariffs=t, closure="balanced").ev_usd[[0, 1]]
    assert r.disagreement_kind == "threat point" and r.disagreement.label == tp.label
    assert r.disagreement.ev_usd == pytest.approx(ev, abs=1e-9)
    assert (r.nbs_gains_usd >= -1e-6).all()
