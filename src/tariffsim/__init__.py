"""tariffsim: trade wars and trade talks on real data.

Public API re-exported from :mod:`tariffsim.api`.
"""

from __future__ import annotations

__version__ = "0.1.0"

import jax as _jax

_jax.config.update("jax_enable_x64", True)


def _enable_compile_cache() -> None:
    """Persist compiled JAX kernels across runs (``$TARIFFSIM_JAX_CACHE``; set it empty to disable)."""
    import os
    from pathlib import Path

    path = os.environ.get("TARIFFSIM_JAX_CACHE", str(Path.home() / ".cache" / "tariffsim" / "jax"))
    if not path:
        return
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        _jax.config.update("jax_compilation_cache_dir", path)
        _jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    except Exception:  # noqa: BLE001 - a cache is an optimisation, never a failure
        pass


_enable_compile_cache()

from .api import *  # noqa: E402,F401,F403
from .api import __all__ as _api_all  # noqa: E402
from .errors import ConvergenceError, DataError, ScenarioError, TariffsimError  # noqa: E402
from .world import World  # noqa: E402

__all__ = list(_api_all) + ["World", "TariffsimError", "DataError", "ScenarioError", "ConvergenceError", "__version__"]
