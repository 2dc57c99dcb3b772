"""Implicit differentiation of the certified fast GE kernel (issue 16), docs/design.md §8 "gradients vs finite differences".

``models.ge.equilibrium_implicit`` solves forward without derivatives (Anderson with IO,
analytic Newton without) and re-attaches the implicit-function derivative at the root.
Checked against central finite differences of the *plain* solve (``ts.solve``) and
against the Broyden kernel's own implicit gradients, on random IO worlds, a no-IO
world, and the strategy objective of the Ossa model.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import tariffsim as ts
from tariffsim.models.synthetic import synthetic_world
from tariffsim.models import ge
from tariffsim.models.base import bind_model
from tariffsim.solve.implicit import attach_root, dense_tangent, neumann_tangent


def test_attach_root_scalar_closed_form():
    """x* = sqrt(a) of x^2 - a = 0: value unchanged, dx/da = 1 / (2 sqrt(a)) in both modes."""
    def root(a):
        x_star = jnp.sqrt(jax.lax.stop_gradient(a)) * jnp.ones(1)
        return attach_root(lambda x: x ** 2 - a, x_star, dense_tangent())[0]

    a = 2.0
    assert float(root(a)) == pytest.approx(np.sqrt(a), abs=1e-15)
    assert float(jax.grad(root)(a)) == pytest.approx(0.5 / np.sqrt(a), rel=1e-12)
    assert float(jax.jacfwd(root)(a)) == pytest.approx(0.5 / np.sqrt(a), rel=1e-12)


def test_attach_root_neumann_linear_fixed_point():
    """x = A x + b: dx/db = (I - A)^{-1}, both through the Neumann tangent and reverse mode."""
    a = jnp.array([[0.3, 0.2], [0.1, 0.4]])

    def solve(b):
        x_star = jnp.linalg.solve(jnp.eye(2) - a, jax.lax.stop_gradient(b))
        return attach_root(lambda x: x - (a @ x + b), x_star, neumann_tangent())

    b = jnp.array([1.0, 2.0])
    expect = np.linalg.inv(np.eye(2) - np.asarray(a))
    np.testing.assert_allclose(np.asarray(jax.jacrev(solve)(b)), expect, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.jacfwd(solve)(b)), expect, rtol=1e-12)


def _objective(world, kernel):
    p = ge.make_params(world, None, closure="fixed")
    x0 = jnp.zeros(world.n_regions)

    def f(t1):
        p1 = p._replace(t1=t1)
        sol = ge.equilibrium_implicit(p1, x0, world.has_io) if kernel == "fast" else ge.equilibrium(p1, x0, world.has_io)
        return jnp.log(sol.welfare_hat[0]) + 0.5 * jnp.log(sol.welfare_hat[-1]) + 1e-3 * sol.income[1] / p.i0[1]

    return p, f


@pytest.mark.parametrize("io,seed", [(True, 1), (False, 3)])
def test_fast_kernel_gradient_matches_finite_differences_and_broyden(io, seed):
    world = synthetic_world(3, 2, io=io, seed=seed)
    p, f_fast = _objective(world, "fast")
    _, f_old = _objective(world, "broyden")
    rng = np.random.default_rng(seed)
    t1 = np.asarray(p.t1) + rng.uniform(0.0, 0.3, p.t1.shape) * (1 - np.eye(3))[:, :, None]
    v_fast, g_fast = jax.jit(jax.value_and_grad(f_fast))(jnp.asarray(t1))
    v_old, g_old = jax.jit(jax.value_and_grad(f_old))(jnp.asarray(t1))
    assert float(v_fast) == pytest.approx(float(v_old), abs=1e-12)
    np.testing.assert_allclose(np.asarray(g_fast), np.asarray(g_old), rtol=1e-8, atol=1e-12)
    # finite differences of the plain solve (not of the kernel under test) on a few cells
    def value(t):
        eq = ts.solve(world, tariffs=t)
        return np.log(eq.welfare_hat[0]) + 0.5 * np.log(eq.welfare_hat[-1]) + 1e-3 * eq.income[1] / world.income_usd[1]

    h = 1e-6
    for cell in [(1, 0, 0), (0, 2, 1), (2, 1, 1)]:
        tp, tm = t1.copy(), t1.copy()
        tp[cell] += h
        tm[cell] -= h
        fd = (value(tp) - value(tm)) / (2 * h)
        assert float(g_fast[cell]) == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_bound_cp_model_gradient_is_kernel_independent():
    """The strategy layer's evaluate (fast kernel) and the Broyden baseline give the same gradient."""
    world = synthetic_world(3, 2, io=True, seed=1)
    fast = bind_model(world, "caliendo_parro")
    old = bind_model(world, "caliendo_parro", kernel="broyden")
    t = np.asarray(world.tariffs) + 0.1 * (1 - np.eye(3))[:, :, None]

    def g(m):
        return jax.grad(lambda tt: jnp.log(m.evaluate(tt, m.init_state)[1][1]))(jnp.asarray(t))

    np.testing.assert_allclose(np.asarray(g(fast)), np.asarray(g(old)), rtol=1e-8, atol=1e-13)


def test_ossa_gradient_matches_finite_differences():
    world = ts.World.from_arrays(
        regions=["A", "B", "C"], sectors=["x", "y"],
        flows=np.array([[[200.0, 150.0], [20.0, 10.0], [15.0, 25.0]],
                        [[12.0, 30.0], [180.0, 160.0], [20.0, 10.0]],
                        [[25.0, 8.0], [14.0, 22.0], [210.0, 170.0]]]),
        theta=np.array([3.0, 6.0]), meta={"sigma": np.array([4.0, 7.0]),
                                          "lambda_pol": np.array([[1.2, 0.8], [0.9, 1.1], [1.0, 1.0]])})
    from tariffsim.models import ossa

    m = bind_model(ossa.balance_world(world), "ossa2014", weights="political_economy")
    t = np.asarray(m.world.tariffs) + 0.2 * (1 - np.eye(3))[:, :, None]

    def u(tt):
        return jnp.log(m.evaluate(tt, m.init_state)[1][0])

    g = np.asarray(jax.grad(u)(jnp.asarray(t)))
    h = 1e-6
    for cell in [(1, 0, 0), (2, 0, 1), (0, 1, 1)]:
        tp, tm = t.copy(), t.copy()
        tp[cell] += h
        tm[cell] -= h
        fd = (float(u(jnp.asarray(tp))) - float(u(jnp.asarray(tm)))) / (2 * h)
        assert g[cell] == pytest.approx(fd, rel=1e-5, abs=1e-10)
