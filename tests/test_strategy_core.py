"""Strategy core (issue 6): optimal tariffs, Nash wars and cooperative talks on small worlds, any model.

Closed form (docs/ossa2014.md, "Optimal tariff in the two-country one-sector model"):
with two countries, one sector and balanced trade, the Armington (CP without IO)
and Krugman-with-fixed-firms (Ossa, one sector) models are the same economy
with trade elasticity theta (= sigma - 1). Home's optimal tariff is Johnson's
t* = 1 / (eta* - 1) with eta* = 1 + theta * lambda_FF the elasticity of the
foreign import demand, i.e.  t* = 1 / (theta * lambda_FF),  lambda_FF the
foreign domestic expenditure share at the optimum.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import small_ossa_world
from scipy.optimize import minimize_scalar

import tariffsim as ts
from tariffsim.errors import CornerSolutionWarning
from tariffsim.models.base import bind_model
from tariffsim.strategy import cooperative_tariffs, nash_tariffs, optimal_tariff

THETA = 4.0


def _two_country(sigma_meta: bool) -> ts.World:
    flows = np.array([[[60.0], [40.0]], [[40.0], [60.0]]])
    meta = {"sigma": np.array([THETA + 1.0])} if sigma_meta else {}
    return ts.World.from_arrays(regions=["HOME", "FOR"], sectors=["G"], flows=flows, theta=THETA, meta=meta)


@pytest.fixture(scope="module")
def small():
    """3 regions x 3 sectors, balanced by Ossa's re-basing, with political-economy weights."""
    return small_ossa_world()


@pytest.fixture(scope="module")
def small_pol(small):
    return bind_model(small, "ossa2014", weights="political_economy")


@pytest.mark.parametrize("model", ["ossa2014", "caliendo_parro"])
def test_optimal_tariff_two_country_closed_form(model):
    """t* = 1 / (theta * lambda_FF) at the optimum, in both model families (Johnson's formula)."""
    w = _two_country(sigma_meta=(model == "ossa2014"))
    m = bind_model(w, model, closure="balanced")
    r = optimal_tariff(m, "HOME", structure="uniform", bounds=(0.0, 5.0))
    assert not r.corner
    t_star = float(r.parameters[0])
    eq = m.solve(r.tariff_rate)
    flows = np.asarray(eq.flows)
    lam_ff = flows[1, 1, 0] / flows[:, 1, 0].sum()  # FOR levies no tariff: shares at producer prices
    assert t_star == pytest.approx(1.0 / (THETA * lam_ff), rel=1e-5)
    assert r.welfare_hat[0] > 1.0 > r.welfare_hat[1]
    assert r.projected_gradient_norm < 1e-6


def test_optimal_uniform_tariff_matches_grid_search(small_pol):
    """Independent check: maximise G_hat over a bounded scalar by Brent's method on the same model."""
    m = small_pol
    r = optimal_tariff(m, "B", structure="uniform")
    base = np.asarray(m.world.tariffs)

    def neg_g(x):
        t = base.copy()
        t[[0, 2], 1, :] = x
        return -float(m.evaluate(t, m.init_state)[1][1])

    brent = minimize_scalar(neg_g, bounds=(0.0, 3.0), method="bounded", options={"xatol": 1e-9})
    assert r.parameters[0] == pytest.approx(brent.x, abs=1e-5)
    assert r.government_welfare_hat[1] == pytest.approx(-brent.fun, abs=1e-12)


def test_optimal_tariff_first_and_second_order_conditions(small_pol):
    m = small_pol
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        r = optimal_tariff(m, "A", structure="bilateral")
    assert r.projected_gradient_norm < 1e-6  # KKT: gradient zero in every free direction
    assert r.parameters.shape == (6,)
    # political-economy weights make A want import subsidies on some goods: those rates sit at 0 and say so
    assert r.corner == (r.n_at_lower > 0)
    g0 = r.government_welfare_hat[0]
    for k in range(r.parameters.size):
        for h in ((1e-3,) if r.parameters[k] <= 1e-7 else (-1e-3, 1e-3)):  # every feasible move loses
            p = r.parameters.copy()
            p[k] += h
            t = r.tariff_rate.copy()
            imp, exp, sec = r.labels[k]
            t[m.world.index(exp), 0, m.world.sector_index(sec)[0]] = p[k]
            assert float(m.evaluate(t, m.init_state)[1][0]) < g0
    assert r.summary().height == 6


def test_structures_nest(small_pol):
    """More instruments never do worse: bilateral >= by_partner >= uniform (by_sector: see test_ossa)."""
    m = small_pol
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        g = {s: optimal_tariff(m, "C", structure=s).government_welfare_hat[2] for s in ("uniform", "by_partner", "bilateral")}
    tol = 1e-10
    assert g["bilateral"] >= g["by_partner"] - tol >= g["uniform"] - 2 * tol
    assert g["bilateral"] > g["uniform"]


def test_corner_is_reported_not_called_optimal(small_pol):
    with pytest.warns(CornerSolutionWarning):
        r = optimal_tariff(small_pol, "A", structure="uniform", bounds=(0.0, 0.01))
    assert r.corner and r.n_at_upper == 1


def test_nash_symmetric_two_country():
    w = _two_country(sigma_meta=True)
    m = bind_model(w, "ossa2014")
    r = nash_tariffs(m, structure="uniform")
    t_h, t_f = r.tariff_rate[1, 0, 0], r.tariff_rate[0, 1, 0]
    assert t_h == pytest.approx(t_f, rel=1e-6)
    assert t_h > 0.1
    np.testing.assert_allclose(r.welfare_hat[0], r.welfare_hat[1], rtol=1e-7)
    assert r.welfare_hat[0] < 1.0  # a tariff war hurts both symmetric countries


def test_nash_no_profitable_unilateral_deviation(small_pol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        nash = nash_tariffs(small_pol, structure="bilateral")
    assert nash.converged and (nash.deviation_gain < 1e-8).all()
    for k, c in enumerate(small_pol.regions):
        br = optimal_tariff(small_pol, c, structure="bilateral", others=nash.tariff_rate, warn=False)
        assert br.government_welfare_hat[k] - nash.government_welfare_hat[k] < 1e-8
        np.testing.assert_allclose(br.tariff_rate[:, k, :], nash.tariff_rate[:, k, :], atol=1e-4)
    assert (nash.government_welfare_hat < 1.0).any()
    assert nash.summary().height == 3


def test_cooperative_equal_gains_and_efficient(small_pol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        nash = nash_tariffs(small_pol, structure="bilateral")
    coop = cooperative_tariffs(small_pol, baseline=nash.tariff_rate)
    g = coop.government_welfare_hat
    assert np.ptp(g) < 1e-9                   # equal proportional gains
    assert g[0] > 1.0                          # talks from the war gain for all
    # no direction improves all at once (first order), unlike at the war's tariffs
    assert coop.common_improvement < 1e-4
    from tariffsim.strategy._core import make_control
    from tariffsim.strategy.cooperative import _gov_jacobian, common_improvement

    m = coop.baseline_model
    ctl = make_control(m.regions, m.sectors, [0, 1, 2], "bilateral")
    p0 = ctl.initial(coop.baseline_tariffs)
    jac = np.asarray(_gov_jacobian(m)(p0, ctl.index, coop.baseline_tariffs, np.arange(3), m.init_state))
    s_war, _ = common_improvement(jac, p0 <= 1e-7, p0 >= 10 - 1e-7)
    assert s_war > 1e3 * coop.common_improvement
    assert (coop.tariff_rate >= -1e-12).all()  # restricted
    # weights are a convex combination at an efficient point
    assert (coop.pareto_weights > -1e-6).all() and coop.pareto_weights.sum() == pytest.approx(1.0)
    # unrestricted talks can do at least as well
    free = cooperative_tariffs(small_pol, baseline=nash.tariff_rate, restricted=False)
    assert free.government_welfare_hat[0] >= g[0] - 1e-10
