"""The fast kernel's building blocks against independent computations.

- ``anderson_batched`` against ``anderson`` run row by row (the same iteration written
  for the batch), and a row's answer does not depend on the other rows of its batch;
- ``calc_log_price_and_share`` (one exponential per flow) against ``calc_log_price`` and
  ``calc_trade_share`` (CP eq. 11-12), in the centred regime, the shifted (large theta
  times a large cost spread) regime, near theta -> 0 and with empty importer-sectors;
- the batched Monte Carlo kernel against serial ``ts.solve`` calls.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tariffsim as ts
from tariffsim.models import ge
from tariffsim.solve.anderson import anderson, anderson_batched


def _map(b, c=0.5):
    """A nonlinear contraction z -> c tanh(A z) + b (rows: problems; ``c`` per row sets how hard)."""
    rng = np.random.default_rng(3)
    A = jnp.asarray(rng.standard_normal((12, 12)) / np.sqrt(12))
    c = jnp.asarray(c)[..., None] if jnp.ndim(c) else c
    return lambda z: c * jnp.tanh(z @ A.T) + b


def test_anderson_batched_matches_anderson_row_by_row():
    rng = np.random.default_rng(0)
    B = jnp.asarray(rng.standard_normal((5, 12)))
    z, nrm, its = anderson_batched(_map(B), jnp.zeros((5, 12)), memory=4, tol=1e-13, max_iter=200)
    for r in range(5):
        z1, nrm1, it1 = anderson(_map(B[r]), jnp.zeros(12), memory=4, tol=1e-13, max_iter=200)
        assert abs(int(its[r]) - int(it1)) <= 1          # the same iteration, up to rounding at the tolerance
        np.testing.assert_allclose(np.asarray(z[r]), np.asarray(z1), rtol=0, atol=1e-12)
    # each row is a fixed point of its own map
    np.testing.assert_allclose(np.asarray(_map(B)(z) - z), 0.0, atol=1e-12)


def test_anderson_batched_row_does_not_depend_on_batch_mates():
    rng = np.random.default_rng(1)
    B = jnp.asarray(rng.standard_normal((4, 12)))
    c = jnp.asarray([0.2, 0.5, 0.5, 1.6])            # the last row is a much harder problem
    z, _, its = anderson_batched(_map(B, c), jnp.zeros((4, 12)), memory=4, tol=1e-12, max_iter=300)
    assert int(its[3]) > int(its[0])                 # rows really stop at different steps
    z0, _, it0 = anderson_batched(_map(B[:1], c[:1]), jnp.zeros((1, 12)), memory=4, tol=1e-12, max_iter=300)
    assert int(it0[0]) == int(its[0])
    np.testing.assert_array_equal(np.asarray(z0[0]), np.asarray(z[0]))


def _price_inputs(seed: int, theta_scale: float, spread: float, empty: bool = False):
    rng = np.random.default_rng(seed)
    n, s = 5, 4
    pi0 = rng.uniform(0.1, 1.0, (n, n, s))
    pi0[rng.uniform(size=pi0.shape) < 0.2] = 0.0
    pi0[0, :, :] = np.maximum(pi0[0, :, :], 0.05)      # every importer-sector buys something
    if empty:
        pi0[:, 2, 1] = 0.0                               # importer 2 buys nothing in sector 1
    pi0 = pi0 / np.where(pi0.sum(axis=0) > 0, pi0.sum(axis=0), 1.0)
    t0 = rng.uniform(0, 0.2, pi0.shape)
    t1 = t0 + rng.uniform(0, 0.5, pi0.shape)
    theta = theta_scale * rng.uniform(0.5, 2.0, s)
    log_c = spread * rng.standard_normal((n, s))
    p = ge.GEParams(pi0=jnp.asarray(pi0), t0=jnp.asarray(t0), t1=jnp.asarray(t1), theta=jnp.asarray(theta),
                    va=jnp.ones((n, s)), io=jnp.zeros((n, s, s)), alpha=jnp.ones((n, s)) / s,
                    va0=jnp.ones(n), d1=jnp.zeros(n), i0=jnp.ones(n))
    return p, jnp.asarray(log_c)


@pytest.mark.parametrize("theta_scale,spread,empty", [
    (4.0, 0.1, False),      # the usual case (centred form)
    (4.0, 0.1, True),       # an importer-sector without spending keeps P_hat = 1 and no trade
    (30.0, 2.0, False),     # theta x spread far above LSE_SWITCH: the shifted log-sum-exp
    (1e-9, 0.3, False),     # near Cobb-Douglas: no cancellation error
])
def test_price_and_share_from_one_exponential_match_cp_equations(theta_scale, spread, empty):
    p, log_c = _price_inputs(7, theta_scale, spread, empty)
    c = ge.sweep_constants(p)
    lp, pi1 = ge.calc_log_price_and_share(log_c, c, p.pi0, p.theta)
    lth = ge._log_tau_hat(p)
    lp_ref = ge.calc_log_price(log_c, lth, p.pi0, p.theta)
    pi1_ref = ge.calc_trade_share(p.pi0, lth, log_c, lp_ref, p.theta)
    np.testing.assert_allclose(np.asarray(lp), np.asarray(lp_ref), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(pi1), np.asarray(pi1_ref), rtol=1e-11, atol=1e-14)
    # shares of a non-empty importer-sector sum to one (CP eq. 12 with eq. 11)
    tot = np.asarray(pi1).sum(axis=0)
    has = np.asarray(p.pi0).sum(axis=0) > 0
    np.testing.assert_allclose(tot[has], 1.0, atol=1e-12)
    if empty:
        assert float(lp[2, 1]) == 0.0 and float(jnp.abs(pi1[:, 2, 1]).max()) == 0.0


def test_batched_monte_carlo_kernel_matches_serial_solves():
    w = ts.load_world("world_io_7x44_2017")
    t = w.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mc = ts.monte_carlo(w, tariffs=t, draws=6, seed=5, chunk_size=4)    # two chunks, the last padded
    assert mc.failed == 0 and float(mc.residual.max()) < ge.ACCEPT_TOL
    for k in range(mc.draws):
        eq = ts.solve(w, tariffs=t, theta=np.asarray(mc.theta[k]))
        np.testing.assert_allclose(mc.welfare_hat[k], eq.welfare_hat, rtol=0, atol=1e-9)
