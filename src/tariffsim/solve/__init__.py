"""Numerical kernels (JAX): root finding, Anderson acceleration, linear solves."""

from .._jaxcache import configure_jax as _configure_jax

_configure_jax()
