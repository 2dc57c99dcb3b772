"""Implicit differentiation at a root found by any (non-differentiable) solver.

A fast forward solver (Anderson acceleration, Newton with a stopped gradient)
returns a point ``x*`` with ``f(x*, params) = 0`` but no usable derivative. The
implicit function theorem gives the derivative of the root anyway::

    f(x*(params), params) = 0   =>   dx*/dparams = -(df/dx)^{-1} df/dparams     at x*

:func:`attach_root` re-attaches that derivative: its value is the given ``x*``
(it runs no iterations), its forward- and reverse-mode derivatives are the
implicit-function ones (``jax.lax.custom_root`` with an identity "solve"). The
linear solve with ``df/dx`` (or its transpose, in reverse mode) is the
``tangent_solve`` the caller picks: :func:`dense_tangent` (small systems: the
exact Jacobian, given or by forward mode, then LU) or :func:`neumann_tangent`
(``f(x) = x - T(x)`` for a contraction ``T``: the Neumann series, transposable).

The derivative is correct only at a root: callers must certify ``x*`` (the GE
kernel checks every equilibrium condition at the returned point) before using
the gradient.

References
----------
Blondel, M. et al. (2022), "Efficient and Modular Implicit Differentiation",
NeurIPS (root and fixed-point differentiation with a user-chosen linear solver).
Griewank, A. and A. Walther (2008), Evaluating Derivatives, 2nd ed., SIAM, ch. 15
(differentiating implicitly defined functions).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax

from .roots import dense_solve, neumann_solve

TangentSolve = Callable[[Callable[[jnp.ndarray], jnp.ndarray], jnp.ndarray], jnp.ndarray]


def attach_root(f: Callable[[jnp.ndarray], jnp.ndarray], x_star: jnp.ndarray, tangent_solve: TangentSolve) -> jnp.ndarray:
    """``x_star`` (value unchanged) carrying the implicit-function derivative of the root of ``f``.

    Parameters
    ----------
    f : residual ``x -> f(x)``; it may close over the parameters to differentiate.
    x_star : a certified root of ``f`` found by any solver (its own derivative is dropped).
    tangent_solve : ``(g, y) -> g^{-1} y`` for the linear map ``g`` (the linearisation of
        ``f`` at ``x_star``); must be linear in ``y`` (JAX transposes it in reverse mode).
    """

    def identity_solve(_f, x0):
        return x0

    return lax.custom_root(f, lax.stop_gradient(x_star), identity_solve, tangent_solve)


def dense_tangent(jacobian: jnp.ndarray | None = None) -> TangentSolve:
    """Tangent solve with a dense Jacobian: the given one (it must carry no derivative:
    pass it through ``lax.stop_gradient``), else forward mode on the linearised residual."""

    def solve(g, y):
        a = jax.jacfwd(g)(y) if jacobian is None else jacobian
        return dense_solve(a, y)

    return solve


def neumann_tangent(tol: float = 1e-14, max_iter: int = 20_000) -> TangentSolve:
    """Tangent solve for ``f(x) = x - T(x)`` with ``T`` a contraction: ``(I - T_x) v = y`` by the
    Neumann series (:func:`tariffsim.solve.roots.neumann_solve`, transposable)."""

    def solve(g, y):
        return neumann_solve(g, y, tol=tol, max_iter=max_iter)

    return solve
