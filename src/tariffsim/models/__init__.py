"""Models: product-level PE, multi-sector GE (Caliendo-Parro), Ossa (2014); the model registry."""

from .._jaxcache import configure_jax as _configure_jax

_configure_jax()
