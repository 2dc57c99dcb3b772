"""Tariffs by GE sector for a built world from the product schedules: the US schedule and Japan's applied schedule.

For a world whose sectors are the ICIO 44-sector codes of ``world_io_7x44_2017`` (``--sectors icio44``):

- US import tariffs on every partner region: the schedule's HS10 rates on ``date``, averaged by 2024 US import
  weights within each (partner region, sector) through ``hs_icio44_crosswalk`` (:func:`tariffsim.policy.schedule_to_world`);
- Japan's import tariffs: its 2025 applied lines (MFN for every partner, USJTA rates for US goods), simple mean of
  line AVEs per sector (:func:`japan_tariffs_to_world`; Japan's imports by product are not in the data).

Every other importer, every services sector (23-44) and every goods cell with no 2024 US imports keeps 0: the
returned record lists them (``sectors_without_tariff_data``, ``importers_without_tariff_data``), and the world's
provenance carries the record.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from .japan import japan_sector_tariffs, japan_tariffs_to_world
from .to_world import sector_rates


def schedule_sector_tariffs(world: Any, *, schedule: Any = "baseline-2024", date: Any = "2024-12-31") -> tuple[np.ndarray, dict]:
    """``(tariffs (N, N, S), record)`` for ``world`` from the US ``schedule`` on ``date`` and Japan's applied schedule."""
    from . import schedule_to_world
    from ._data import as_date
    from .schedules import as_schedule

    for r in ("USA", "JPN"):
        if r not in world.regions:
            raise DataError(f"tariffs from schedules: world {world.name!r} has no region {r} (use --regions default7 or keep {r})")
    t = schedule_to_world(schedule, world, date)
    others = tuple(r for r in world.regions if r not in ("JPN", "USA"))
    wj = world.with_tariffs(t)
    if others:
        t = japan_tariffs_to_world(wj, preference="mfn", exporters=others)
    t = japan_tariffs_to_world(world.with_tariffs(t), preference="usjta", exporters=("USA",))
    _, w_us = sector_rates(world, as_schedule(schedule).arrays(as_date(date))["tariff"], "USA")
    jp = set(japan_sector_tariffs(world, preference="mfn")["sector"].to_list())
    us_has = w_us.sum(axis=0) > 0
    no_data = [s for k, s in enumerate(world.sectors) if not us_has[k] and s not in jp]
    record = {
        "source": f"US schedule {as_schedule(schedule).name} on {date} (HS10 rates, 2024 US import weights, "
                  "hs_icio44_crosswalk) + Japan applied tariffs 2025 (MFN; USJTA for US goods; simple mean of line AVEs)",
        "option": "schedule",
        "sectors_without_tariff_data": no_data,
        "importers_without_tariff_data": list(others),
    }
    return t, record


__all__ = ["schedule_sector_tariffs"]
