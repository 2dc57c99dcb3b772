"""Aggregate an MRIO table over regions and sectors with concordance matrices (pure accounting).

With the region concordance ``R`` (N x N', ``R[r, a] = 1`` when region r joins a) and the sector concordance
``S`` (S x S'), the block concordance is ``K = R ⊗ S`` and (Miller and Blair 2009, section 4.4)::

    Z' = K' Z K,    Y'[., b, f] = K' Y[., r, f] summed over r in b,    v' = K' v

so every total (output, primary inputs, final demand, intermediate use; trade between the new regions) is a sum
of the old ones and is preserved exactly. Trade between regions merged into one becomes domestic.

References
----------
Miller, R. E. and P. D. Blair (2009), *Input-Output Analysis*, 2nd ed., section 4.4 (aggregation).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .maps import apply_map
from .table import MrioTable


def concordance(codes: Sequence[str], targets: Sequence[str], order: Sequence[str]) -> np.ndarray:
    """0/1 matrix (len(codes), len(order)) with a 1 where ``codes[k]`` maps to ``order[a]``."""
    pos = {c: a for a, c in enumerate(order)}
    C = np.zeros((len(codes), len(order)))
    C[np.arange(len(codes)), [pos[t] for t in targets]] = 1.0
    return C


def aggregate_table(table: MrioTable, *, regions: Mapping[str, str] | None = None,
                    sectors: Mapping[str, str] | None = None, where: str = "") -> MrioTable:
    """The table with regions and/or sectors merged by the maps (source code -> target code).

    New regions are ordered alphabetically (``BRA CHN EU IND JPN ROW USA`` for ``default7``); new sectors in the
    order they first appear along the table's sectors. Refuses a map that misses a code of the table.
    """
    if not regions and not sectors:
        return table
    r_t = apply_map(table.regions, regions, kind="region", where=where) if regions else list(table.regions)
    s_t = apply_map(table.sectors, sectors, kind="sector", where=where) if sectors else list(table.sectors)
    new_r = tuple(sorted(set(r_t))) if regions else table.regions
    new_s = tuple(dict.fromkeys(s_t))
    R = concordance(table.regions, r_t, new_r)
    S = concordance(table.sectors, s_t, new_s)
    K = np.kron(R, S)
    Z = K.T @ table.Z @ K
    Y = np.einsum("ab,bjf,jc->acf", K.T, table.Y, R, optimize=True)
    primary = K.T @ table.primary
    inv = tuple(c for c in table.categories if c in table.inventory)
    names = None
    if table.sector_names is not None and not sectors:
        names = table.sector_names
    meta = {**table.meta, "aggregated_from": f"{table.n_regions} regions x {table.n_sectors} sectors"}
    return MrioTable(new_r, new_s, table.categories, Z, Y, primary, inv, names, meta)
