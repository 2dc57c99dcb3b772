"""tariffsim: trade wars and trade talks on real data.

The public API is the table in :mod:`tariffsim.api`; every name resolves lazily,
so ``import tariffsim`` and ``tariffsim --help`` do not import JAX. JAX is
configured (64-bit, persistent compilation cache) by :mod:`tariffsim._jaxcache`
the first time a package that computes with it (models, solve, strategy, scale)
is imported.
"""

from __future__ import annotations

__version__ = "0.1.0"

import sys as _sys
import types as _types

from . import api as _api

__all__ = [*_api.__all__, "__version__"]


class _Facade(_types.ModuleType):
    """The package module: a subpackage never shadows the public function of the same name.

    Importing the subpackage ``tariffsim.solve`` makes Python set ``tariffsim.solve`` to
    it; the public name ``tariffsim.solve`` is the GE solve function
    (:func:`tariffsim.models.ge.solve`), so that binding is skipped here (the
    subpackage stays importable through ``sys.modules``).
    """

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, _types.ModuleType) and ":" in _api.EXPORTS.get(name, ""):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Facade


def __getattr__(name: str):
    obj = _api.resolve(name)
    globals()[name] = obj
    return obj


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_api.EXPORTS))
