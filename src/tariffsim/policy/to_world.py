"""Product rates -> GE sector tariff matrices through an HS -> world-sector crosswalk (pure aggregation; the
schedule-level entry point is :func:`tariffsim.policy.schedules.schedule_to_world`).

For a GE world with regions R and sectors S, the US import tariff on exporter region e in sector s is the
import-weighted mean of the product rates (docs/design.md §6)::

    tau[e, USA, s] = sum_{h in s, p in e} v[h, p] * rate[h, p] / sum_{h in s, p in e} v[h, p]

with 2024 US imports ``v`` as weights. Products map to sectors by ``hs_icio44_crosswalk`` (hand-built HS heading ->
ICIO 44-industry rules, longest prefix wins; chapters 98-99 unmapped); partners map to the world's regions by code,
EU members to ``EU`` and everyone else to ``ROW`` when the world has these aggregates. Cells with no 2024 imports
keep the world's tariff; other importers' tariffs are untouched. A one-sector world takes all goods.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..data import read_table
from ..errors import DataError
from ._data import EU27, base


@lru_cache(maxsize=1)
def _rules() -> dict[str, str]:
    r = read_table("hs_icio44_crosswalk", "rules")
    return dict(zip(r["hs_prefix"], r["sector"]))


def hs_sector_crosswalk(codes: Sequence[str]) -> list[str | None]:
    """ICIO 44-sector code (``world_io_7x44_2017`` sector) of each HS code, by the longest matching prefix rule."""
    rules = _rules()
    out: list[str | None] = []
    for c in codes:
        s = None
        for L in (6, 4, 2):
            s = rules.get(c[:L])
            if s is not None:
                break
        out.append(s)
    return out


def _region_of(world: Any) -> dict[str, str]:
    regions = set(world.regions)
    b = base()
    out = {}
    for p in b.partners:
        if p in regions:
            out[p] = p
        elif p in EU27 and "EU" in regions:
            out[p] = "EU"
        elif "ROW" in regions:
            out[p] = "ROW"
    return out


def _sector_of(world: Any) -> np.ndarray:
    """Sector position in ``world.sectors`` for every base HS10 code (-1 = unmapped)."""
    b = base()
    if len(world.sectors) == 1:
        return np.zeros(len(b.hs10_codes), dtype=np.int64)
    xs = hs_sector_crosswalk(list(b.hs10_codes))
    pos = {s: i for i, s in enumerate(world.sectors)}
    needed = {s for s in xs if s is not None}
    if not needed <= set(pos):
        raise DataError(f"to_world: world {world.name!r} sectors are not the ICIO 44 sectors of the HS crosswalk "
                        f"(missing {', '.join(sorted(needed - set(pos))[:5])}); use a 7x44-style world")
    return np.array([pos[s] if s is not None else -1 for s in xs], dtype=np.int64)


def sector_rates(world: Any, rates: np.ndarray, importer: str = "USA") -> tuple[np.ndarray, np.ndarray]:
    """(weighted mean rate, weight) arrays of shape (N, S) by exporter region and sector, from row ``rates``."""
    b = base()
    reg = _region_of(world)
    ridx = np.array([world.regions.index(reg[p]) if p in reg and reg[p] != importer else -1 for p in b.partners])
    r = ridx[b.p_idx]
    s = _sector_of(world)[b.h_idx]
    ok = (r >= 0) & (s >= 0)
    n, ns = len(world.regions), len(world.sectors)
    key = r[ok] * ns + s[ok]
    w = np.bincount(key, weights=b.value_usd[ok], minlength=n * ns).reshape(n, ns)
    num = np.bincount(key, weights=(b.value_usd * rates)[ok], minlength=n * ns).reshape(n, ns)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(w > 0, num / w, np.nan)
    return mean, w


__all__ = ["hs_sector_crosswalk", "sector_rates"]
