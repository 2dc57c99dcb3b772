"""A labelled multi-regional input-output table: the parsed form every source is brought to.

Rows and columns of ``Z`` are (region, sector) pairs, region-major. In the notation of Miller and Blair (2009,
ch. 3), with output ``x``, intermediate use ``Z``, final demand ``Y`` and primary inputs ``v``::

    x = Z 1 + Y 1          (row identity: sales)
    x = Z' 1 + v           (column identity: costs)

``primary`` is ``v``: value added plus every other primary-input row of the source (taxes less subsidies on
products, and in WIOD the cif/fob, direct-purchase and international-margin rows), taken as the column residual
``x - Z' 1``. All values are USD millions at basic prices.

References
----------
Miller, R. E. and P. D. Blair (2009), *Input-Output Analysis: Foundations and Extensions*, 2nd ed., Cambridge
University Press, sections 3.1-3.2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ...errors import DataError


@dataclass(frozen=True, eq=False)
class MrioTable:
    """Intermediate use ``Z`` (NS, NS), final demand ``Y`` (NS, N, F) by buying region and category, primary inputs.

    ``inventory`` lists the final-demand categories that are changes in inventories (and valuables).
    """

    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    categories: tuple[str, ...]
    Z: np.ndarray
    Y: np.ndarray
    primary: np.ndarray
    inventory: tuple[str, ...] = ()
    sector_names: tuple[str, ...] | None = None
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, s, f = len(self.regions), len(self.sectors), len(self.categories)
        shapes = {"Z": (n * s, n * s), "Y": (n * s, n, f), "primary": (n * s,)}
        for name, shape in shapes.items():
            arr = getattr(self, name)
            if arr.shape != shape:
                raise DataError(f"MRIO table: {name} has shape {arr.shape}, expected {shape} for {n} regions x {s} sectors")
            if not np.isfinite(arr).all():
                k = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise DataError(f"MRIO table: non-finite value in {name} at {self._cell(name, k)}")
        for name in shapes:
            getattr(self, name).flags.writeable = False

    def _cell(self, name: str, flat: int) -> str:
        s = len(self.sectors)
        if name == "Y":
            row, rest = divmod(flat, len(self.regions) * len(self.categories))
            j, c = divmod(rest, len(self.categories))
            return f"({self.label(row)}, buyer {self.regions[j]}, {self.categories[c]})"
        row = flat % (len(self.regions) * s) if name == "primary" else flat // (len(self.regions) * s)
        return f"({self.label(row)})"

    def label(self, row: int) -> str:
        """``region/sector`` of a row or column position."""
        r, k = divmod(int(row), len(self.sectors))
        return f"{self.regions[r]}/{self.sectors[k]}"

    @property
    def x(self) -> np.ndarray:
        """Gross output ``x = Z 1 + Y 1`` (row identity), USD millions."""
        return self.Z.sum(axis=1) + self.Y.sum(axis=(1, 2))

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)

    def totals(self) -> dict[str, np.ndarray]:
        """Totals that every correct transformation must preserve (by region): output, primary inputs, final demand,
        intermediate use, exports and imports (USD millions)."""
        n, s = self.n_regions, self.n_sectors
        Z4 = self.Z.reshape(n, s, n, s)
        Yr = self.Y.sum(axis=2).reshape(n, s, n)
        ship = Z4.sum(axis=3) + Yr  # (origin, sector, destination)
        off = 1.0 - np.eye(n)
        return {
            "output": self.x.reshape(n, s).sum(axis=1),
            "primary": self.primary.reshape(n, s).sum(axis=1),
            "final_demand": Yr.sum(axis=(0, 1)),
            "intermediate_use": Z4.sum(axis=(0, 1, 3)),
            "exports": np.einsum("isj,ij->i", ship, off),
            "imports": np.einsum("isj,ij->j", ship, off),
        }

    def summary(self) -> str:
        t = self.totals()
        return (f"MRIO table {self.meta.get('source', '')} {self.meta.get('year', '')}: {self.n_regions} regions x "
                f"{self.n_sectors} sectors x {len(self.categories)} final-demand categories; world output "
                f"{t['output'].sum():,.0f} USD mn, final demand {t['final_demand'].sum():,.0f} USD mn")

    def __repr__(self) -> str:
        return f"MrioTable(regions={self.n_regions}, sectors={self.n_sectors}, categories={len(self.categories)})"
