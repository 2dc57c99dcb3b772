"""Reliability of the GE solver at the edges (issue 9): converge to a *verified* equilibrium or raise.

Economies near the edge (a tiny country, tariffs of 5000% and more, theta near 1
and at 20, a sector with no flows, input-output links) must either return an
equilibrium that passes every accounting check below, or raise
:class:`~tariffsim.errors.ConvergenceError`. No unconverged answer may escape:
``max_iter=1`` raises, and ``throw=False`` marks the result ``converged=False``.

Checks on a returned equilibrium (Caliendo & Parro 2015, eq. 10-14):
labour-market clearing ``w_hat VA = sum_s va Y1``, the numeraire
``sum w_hat VA = sum VA``, trade shares adding up to one, the income identity
``I1 = w_hat VA + R1 + D1``, trade balances equal to minus the deficits (Walras'
law: they sum to zero), and finite, positive prices.
"""

from __future__ import annotations

import functools
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffsim.errors import ConvergenceError, DataError, TariffsimError
from tariffsim.models.ge import ACCEPT_TOL, rebase_world, solve
from tariffsim.world import World

REGIONS = ("A", "B", "C")
SECTORS = ("1", "2")


def _world(*, tiny: float | None = None, theta=4.0, io: bool = False, zero_sector: bool = False, seed: int = 0) -> World:
    rng = np.random.default_rng(seed)
    n, s = len(REGIONS), len(SECTORS)
    f = rng.uniform(1.0, 10.0, (n, n, s))
    f[np.arange(n), np.arange(n), :] = rng.uniform(50.0, 100.0, (n, s))
    if tiny is not None:                       # country A is `tiny` times its neighbours' size
        f[0, :, :] *= tiny
        f[:, 0, :] *= tiny
    if zero_sector:                            # nobody trades sector 1 internationally; C has none of it at all
        f[:, :, 0] *= np.eye(n)
        f[2, 2, 0] = 0.0
    kw = {}
    if io:
        kw = dict(value_added_share=np.full((n, s), 0.6), io_share=np.full((n, s, s), 0.2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = World.from_arrays(regions=REGIONS, sectors=SECTORS, flows=f, theta=theta, **kw)
        return rebase_world(w)                 # an exact equilibrium of the model, so hats are comparable


def _uniform(w: World, rate: float, importers=None) -> np.ndarray:
    t = np.array(w.tariffs, dtype=float)
    n = w.n_regions
    for j in range(n) if importers is None else [w.index(x) for x in importers]:
        for i in range(n):
            if i != j:
                t[i, j, :] = rate
    return t


def assert_verified_equilibrium(eq, *, status: bool = True) -> None:
    """Every accounting identity of the model holds at the solution (not just a small residual)."""
    b = eq.baseline
    if status:
        assert eq.converged and eq.residual < ACCEPT_TOL
    for name in ("welfare_hat", "wage_hat", "price_hat", "flows", "income", "expenditure", "trade_share"):
        assert np.isfinite(getattr(eq, name)).all(), name
    assert (eq.wage_hat > 0).all() and (eq.price_hat > 0).all() and (eq.flows >= 0).all()
    va0 = b.value_added_usd
    scale = float(va0.sum())
    # numeraire: world value added is unchanged
    assert abs(float((eq.wage_hat * va0).sum()) - scale) <= 1e-8 * scale
    # labour markets clear: w_hat VA = sum_s va Y1
    y1 = eq.flows.sum(axis=1)
    labour = (b.value_added_share * y1).sum(axis=1)
    np.testing.assert_allclose(labour, eq.wage_hat * va0, rtol=1e-6, atol=1e-9 * scale)
    # trade shares add up to one wherever a country spends on a sector
    tot = eq.trade_share.sum(axis=0)
    spends = b.trade_share.sum(axis=0) > 0
    np.testing.assert_allclose(tot[spends], 1.0, atol=1e-9)
    # income identity and Walras' law
    np.testing.assert_allclose(eq.income, eq.wage_hat * va0 + eq.tariff_revenue + eq.deficits, rtol=1e-9, atol=1e-9 * scale)
    assert abs(float(eq.deficits.sum())) <= 1e-6 * scale
    np.testing.assert_allclose(eq.trade_balance, -eq.deficits, rtol=1e-6, atol=1e-7 * scale)
    assert abs(float(eq.trade_balance.sum())) <= 1e-7 * scale


def _solve_or_raise(w, tariffs, **kw):
    """The only two outcomes allowed: a verified equilibrium, or ConvergenceError."""
    try:
        eq = solve(w, tariffs=tariffs, **kw)
    except ConvergenceError as exc:
        # either no root was reached, or the root is not an economy (negative income)
        assert re.search(r"did not converge|no valid equilibrium", str(exc)), str(exc)
        return None
    assert_verified_equilibrium(eq)
    return eq


# ----------------------------------------------------------------------------- edge economies
EDGES = {
    "tiny_country_1e-6": dict(tiny=1e-6),
    "tiny_country_1e-9": dict(tiny=1e-9),
    "theta_1.01": dict(theta=1.01),
    "theta_1.0001": dict(theta=1.0001),
    "theta_20": dict(theta=20.0),
    "theta_mixed_1.01_20": dict(theta=np.array([1.01, 20.0])),
    "zero_flows_in_a_sector": dict(zero_sector=True),
    "input_output": dict(io=True),
    "input_output_theta_1.01": dict(io=True, theta=1.01),
    "input_output_tiny_country": dict(io=True, tiny=1e-6),
}


@pytest.mark.parametrize("name", sorted(EDGES))
@pytest.mark.parametrize("shock", ["A_50pct_on_all", "B_5000pct_on_A", "everyone_5000pct_balanced"])
def test_edge_economies_converge_to_a_verified_equilibrium_or_raise(name, shock):
    w = _world(**EDGES[name])
    if shock == "A_50pct_on_all":
        eq = _solve_or_raise(w, _uniform(w, 0.5, ["A"]))
    elif shock == "B_5000pct_on_A":
        t = np.array(w.tariffs)
        t[w.index("A"), w.index("B"), :] = 50.0
        eq = _solve_or_raise(w, t)
    else:
        eq = _solve_or_raise(w, _uniform(w, 50.0), closure="balanced")
    if eq is not None and shock == "B_5000pct_on_A":
        # a prohibitive tariff all but ends that trade
        assert eq.flows[w.index("A"), w.index("B")].sum() < 1e-3 * w.flows[w.index("A"), w.index("B")].sum()


def test_zero_shock_at_the_edges_returns_all_hats_one():
    for name in ("tiny_country_1e-9", "theta_1.0001", "theta_20", "zero_flows_in_a_sector", "input_output"):
        w = _world(**EDGES[name])
        eq = solve(w)
        assert_verified_equilibrium(eq)
        np.testing.assert_allclose(eq.welfare_hat, 1.0, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(eq.wage_hat, 1.0, atol=1e-9, err_msg=name)


def test_prohibitive_tariffs_with_fixed_deficits_have_no_equilibrium_and_raise():
    """Near autarky a country cannot finance a fixed deficit: no equilibrium exists, so the solver must say so."""
    w = _world()
    assert np.abs(w.deficit_usd).max() > 1.0
    for rate in (50.0, 1e3, 1e6):
        with pytest.raises(ConvergenceError) as exc:
            solve(w, tariffs=_uniform(w, rate), closure="fixed")
        assert exc.value.iterations is not None
        assert re.search(r"did not converge|no valid equilibrium", str(exc.value)), str(exc.value)
    assert_verified_equilibrium(solve(w, tariffs=_uniform(w, 50.0), closure="balanced"))


# ----------------------------------------------------------------------------- no unconverged result escapes
def test_max_iter_1_raises_and_throw_false_marks_the_result():
    w = _world()
    t = _uniform(w, 0.5, ["A"])
    with pytest.raises(ConvergenceError) as exc:
        solve(w, tariffs=t, max_iter=1)
    assert exc.value.residual > ACCEPT_TOL and exc.value.iterations <= 1
    eq = solve(w, tariffs=t, max_iter=1, throw=False)
    assert eq.converged is False and eq.residual > ACCEPT_TOL
    assert "residual" in repr(eq)
    with pytest.raises(AssertionError):            # and its numbers are visibly not an equilibrium
        assert_verified_equilibrium(eq, status=False)
    # the same call with enough iterations converges and verifies
    assert_verified_equilibrium(solve(w, tariffs=t))


def test_a_solve_that_cannot_start_is_an_error_not_a_result():
    w = _world()
    for bad in ([0.0, 1.0, 1.0], [np.nan, 1.0, 1.0], [1.0, 1.0]):
        with pytest.raises(DataError, match="initial_wage_hat"):
            solve(w, initial_wage_hat=bad)
    with pytest.raises(ConvergenceError):          # a deficit larger than the country's income: no equilibrium
        solve(w, deficits=np.array([1e6, -1e6, 0.0]))


# ----------------------------------------------------------------------------- property: random shocks
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rates=st.lists(st.floats(-0.9, 50.0, allow_nan=False), min_size=12, max_size=12),
    closure=st.sampled_from(["fixed", "balanced"]),
    io=st.booleans(),
    theta=st.sampled_from([1.01, 4.0, 20.0]),
)
def test_random_tariffs_give_a_verified_equilibrium_or_convergence_error(rates, closure, io, theta):
    w = _cached_world(io, theta)
    t = np.zeros(w.flows.shape)
    for k, (i, j) in enumerate((i, j) for i in range(3) for j in range(3) if i != j):
        t[i, j, 0], t[i, j, 1] = rates[k], rates[k + 6]
    try:
        eq = solve(w, tariffs=t, closure=closure)
    except ConvergenceError:
        return
    except TariffsimError as exc:  # pragma: no cover - valid inputs must not be refused
        raise AssertionError(f"valid tariffs refused: {exc}")
    assert_verified_equilibrium(eq)


@functools.lru_cache(maxsize=None)
def _cached_world(io: bool, theta: float) -> World:
    return _world(io=io, theta=theta, seed=1)
