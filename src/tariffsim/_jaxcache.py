"""JAX set-up in one place: 64-bit floats and the persistent compilation cache.

:func:`configure_jax` runs once, when the first package that computes with JAX
(``models``, ``solve``, ``strategy``, ``scale``) is imported; ``import tariffsim``
alone imports no JAX. The persistent cache lets compiled kernels survive across
processes.

Folder: ``path`` if given, else ``$TARIFFSIM_JAX_CACHE`` (set it to an empty string
to disable), else ``$TARIFFSIM_CACHE/jax`` (default ``~/.cache/tariffsim/jax``).
A cache is an optimisation: an unwritable folder or an old JAX means no cache,
never an error.
"""

from __future__ import annotations

import os
from pathlib import Path


def enable_compilation_cache(path: str | os.PathLike | None = None) -> str | None:
    """Switch the cache on; returns the folder, or None when disabled or unavailable."""
    if path is None:
        env = os.environ.get("TARIFFSIM_JAX_CACHE")
        if env is not None and env.strip() == "":
            return None
        path = env or Path(os.environ.get("TARIFFSIM_CACHE", Path.home() / ".cache" / "tariffsim")) / "jax"
    try:
        import jax

        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(folder))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except Exception:  # noqa: BLE001 - see module docstring
        return None
    return str(folder)


_CONFIGURED = False


def configure_jax() -> None:
    """Enable float64 (every kernel certifies residuals near 1e-12) and the compilation cache, once."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    import jax

    jax.config.update("jax_enable_x64", True)
    enable_compilation_cache()
    _CONFIGURED = True
