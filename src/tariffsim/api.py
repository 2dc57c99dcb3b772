"""The public API facade. Interfaces (CLI, dashboard, report) import only this module.

Each section below is owned by one part of the package; keep imports here thin.
"""

from __future__ import annotations

# --- data & world (foundation) ---------------------------------------------
from .data import catalog, info as dataset_info, list_datasets, load_world, read_world_files  # noqa: F401

# --- GE engine ---------------------------------------------------------------
from .models.ge import Equilibrium, rebase_world, solve  # noqa: F401

__all__ = [
    "catalog", "dataset_info", "list_datasets", "load_world", "read_world_files",
    "Equilibrium", "rebase_world", "solve",
]
