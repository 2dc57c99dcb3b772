"""Threat points: the tariffs each side can impose if talks fail.

:func:`threat_2025` is the April 2025 US threat on Japan (IEEPA reciprocal rate on goods,
Section 232 on autos, both on top of the current rates; no retaliation).
"""

from __future__ import annotations

import numpy as np

from ..world import World
from .facts import _default_values
from .sector_groups import _by_name, goods_sectors


def threat_2025(world: World, home: str = "USA", partner: str = "JPN") -> np.ndarray:
    """April 2025 US tariffs on Japan, no retaliation: MFN + 24% reciprocal on goods, MFN + 25% (Section 232) on autos."""
    d = {r["name"]: r["value"] for r in _default_values()}
    t = np.array(world.tariffs, dtype=float)
    i, j = world.index(partner), world.index(home)
    goods = goods_sectors(world)
    autos = _by_name(world, ("motor vehicle",), goods)
    for s in goods:
        k = world.sectors.index(s)
        t[i, j, k] += d["threat: autos Section 232"] if s in autos else d["threat: reciprocal rate"]
    return t


__all__ = ["threat_2025"]
