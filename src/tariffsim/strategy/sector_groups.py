"""Which of a world's sectors are goods, autos, agriculture & food, or the 2025 purchase sectors (by sector name).

The bargaining instruments are tariffs by sector group; the groups are found by the
sector names of the world (``world.sector_names``), so the same code serves the ICIO
44-sector world and smaller test worlds.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..world import World


def goods_sectors(world: World) -> tuple[str, ...]:
    """Sectors that carry a tariff somewhere in the world (goods); all sectors if none do."""
    has = np.abs(np.asarray(world.tariffs)).max(axis=(0, 1)) > 0
    return tuple(s for s, h in zip(world.sectors, has) if h) or tuple(world.sectors)


def _names(world: World) -> list[str]:
    return [n.lower() for n in (world.sector_names or world.sectors)]


def _by_name(world: World, words: Sequence[str], among: Sequence[str]) -> tuple[str, ...]:
    names = dict(zip(world.sectors, _names(world)))
    return tuple(s for s in among if any(names[s].startswith(w) or w in names[s] for w in words))


def default_groups(world: World, players: Sequence[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Default tariff groups by importer: the first player's tariffs on the second by *autos* / *other goods*,
    the second's on the first by *agri_food* / *other goods* (goods = sectors with a tariff somewhere)."""
    goods = goods_sectors(world)
    autos = _by_name(world, ("motor vehicle",), goods)
    agri = _by_name(world, ("agricultur", "fishing", "food"), goods)
    out = {}
    for imp, special, label in ((players[0], autos, "autos"), (players[1], agri, "agri_food")):
        g = {label: special, "other_goods": tuple(s for s in goods if s not in special)}
        out[imp] = {k: v for k, v in g.items() if v}
    return out


def default_purchase_sectors(world: World) -> dict[str, tuple[str, ...]]:
    """Sectors of the 2025 purchase commitments by name (fallback: all goods sectors)."""
    goods = goods_sectors(world)
    ag = _by_name(world, ("agricultur", "food", "chemical and chemical"), goods) or goods
    defence = _by_name(world, ("other transport",), goods) or goods
    return {"agriculture, food, chemicals": ag, "other transport (defence)": defence}


__all__ = ["goods_sectors", "default_groups", "default_purchase_sectors"]
