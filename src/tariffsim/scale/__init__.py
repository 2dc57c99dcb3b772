"""Uncertainty and scale: Monte Carlo over elasticities (batched JAX) and dask scenario sweeps.

- :func:`monte_carlo` / :class:`MonteCarloResult`: quantile bands of GE results under
  trade-elasticity uncertainty (:mod:`tariffsim.scale.montecarlo`).
- :func:`run_sweep` / :class:`SweepGrid` / :func:`read_sweep`: tariff x retaliation x
  transfer grids on dask.distributed, resumable Parquet output (:mod:`tariffsim.scale.sweep`).

Both solve many GE problems through one vmapped, chunked kernel
(:mod:`tariffsim.scale._kernel`).
"""

from __future__ import annotations

from .._jaxcache import configure_jax as _configure_jax

_configure_jax()

from .montecarlo import (
    DEFAULT_THETA_CV, FailedDrawsWarning, MonteCarloResult, default_chunk_size, draw_theta, monte_carlo,
    theta_standard_errors,
)
from .sweep import Range, SweepGrid, SweepRun, compute_chunk, read_sweep, run_sweep

__all__ = [
    "monte_carlo", "MonteCarloResult", "draw_theta", "theta_standard_errors", "default_chunk_size",
    "DEFAULT_THETA_CV", "FailedDrawsWarning", "run_sweep", "read_sweep", "SweepGrid", "SweepRun", "Range",
    "compute_chunk",
]
