"""``tariffsim.build_world``: a Caliendo–Parro world from the official MRIO files a user has.

Composes the data layer (:mod:`tariffsim.data.mrio`: parse, map θ, inventory rule, aggregate, calibrate,
provenance, catalog) with the tariffs by sector of :mod:`tariffsim.policy.sector_tariffs`. See docs/data.md,
"Worlds from MRIO tables".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..world import World


def build_world(source: str, path: str | Path, *, name: str, year: int | None = None, regions: Any = None,
                sectors: Any = None, tariffs: Any = None, inventories: str = "zero", save: bool = False,
                home: str | Path | None = None) -> World:
    """Build a world from WIOD 2016, OECD ICIO or a pymrio folder; optionally register it in the user catalog.

    Parameters
    ----------
    source : ``"wiod2016"``, ``"oecd-icio"`` or ``"pymrio"``.
    path : the downloaded file, or the folder holding one file per year (then ``year`` picks it).
    name : dataset name (lower-case letters, digits, ``_``), e.g. ``"icio_7x44_2020"``.
    year : year of the table (required for a folder of WIOD/ICIO files).
    regions, sectors : aggregation maps: a built-in name (``"default7"``, ``"icio44"``), a YAML/CSV file, or a
        mapping source code -> target code. A map must cover every code of the table (or give ``"*"``).
    tariffs : None (all 0), a CSV ``exporter, importer, sector, tariff_rate`` at the built world's codes, an
        (N, N, S) array, or ``"schedule"`` (US 2024 schedule + Japan's applied schedule by ICIO 44 sector;
        needs ``sectors="icio44"`` and regions USA and JPN).
    inventories : ``"zero"`` (default: inventory changes and other negative final demand set to 0, output
        recomputed with the table's technology) or ``"keep"``.
    save : register the world in the user catalog (``tariffsim data list``) under ``name``.

    Returns
    -------
    World, with ``meta["provenance"]`` (source, file hashes, year, license, build command, maps, θ mapping,
    inventory adjustment, tariff source and sectors without tariff data). Its baseline is an exact equilibrium:
    ``solve(world, tariffs=world.tariffs)`` gives all hats = 1.
    """
    from ..data.mrio import build as mb

    if save:
        from ..data.catalog import BUNDLED_DIR, manifest

        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            raise DataError(f"dataset name {name!r} must be lower-case letters, digits and _ (e.g. icio_7x44_2020)")
        if manifest().get(name, {}).get("_root") == str(BUNDLED_DIR):
            raise DataError(f"dataset name {name!r} is a bundled dataset; choose another name")
    prep = mb.prepare(source, path, year=year, regions=regions, sectors=sectors, inventories=inventories)
    if isinstance(tariffs, str) and tariffs == "schedule":
        from .sector_tariffs import schedule_sector_tariffs

        provisional = mb.calibrate(prep, name=name).world
        arr, rec = schedule_sector_tariffs(provisional)
        built = mb.calibrate(prep, name=name, tariffs=arr, tariff_record=rec)
    else:
        built = mb.calibrate(prep, name=name, tariffs=tariffs)
    if save:
        mb.save(built, home=home)
    return built.world


__all__ = ["build_world"]
