"""tariffsim: trade wars and trade talks on real data.

Public API re-exported from :mod:`tariffsim.api`.
"""

from __future__ import annotations

__version__ = "0.1.0"

import jax as _jax

_jax.config.update("jax_enable_x64", True)


from ._jaxcache import enable_compilation_cache as _enable_cache  # noqa: E402

_enable_cache()

from .api import *  # noqa: E402,F401,F403
from .api import __all__ as _api_all  # noqa: E402
from .errors import ConvergenceError, DataError, ScenarioError, TariffsimError  # noqa: E402
from .world import World  # noqa: E402

__all__ = list(_api_all) + ["World", "TariffsimError", "DataError", "ScenarioError", "ConvergenceError", "__version__"]
