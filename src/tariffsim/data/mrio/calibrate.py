"""Calibrate Caliendo–Parro world arrays from an MRIO table: inventories rule, flows, cost shares (pure accounting).

Inventory rule ``"zero"`` (default; the "INV = 0" correction)
    Changes in inventories (and valuables) are set to zero, any other negative final-demand cell (e.g. ICIO's
    DPABR) is set to zero, and output is recomputed with the table's own technology,
    ``A = Z x̂⁻¹``, ``v = primary / x``::

        x' = (I - A)⁻¹ y',    Z' = A x̂',    primary' = v x̂'

    so every column keeps its cost shares exactly, both identities hold, and the final demand the model
    derives (spending minus intermediate use) is non-negative everywhere. The size of the change is recorded.
``"keep"``
    Inventory changes count as final demand; refused if that leaves a negative flow or negative final demand.

World arrays (docs/design.md §3; Caliendo and Parro 2015, section 3), with ``Z[(i,k),(j,s)]`` the purchases of sector-k
goods from i by industry s in j and tariffs ``t[i, j, k]``::

    flows[i, j, k]        = sum_s Z[(i,k),(j,s)] + sum_f Y[(i,k), j, f]          (basic prices, pre-tariff)
    io_share[j, k, s]     = sum_i Z[(i,k),(j,s)] (1 + t[i, j, k]) / x[j, s]     (tariff-inclusive input costs)
    value_added_share[j,s] = 1 - sum_k io_share[j, k, s]
                          = (primary[j, s] - tariffs paid on its inputs) / x[j, s]

Primary inputs are value added plus net product taxes (TLS, which in the ICIO include import duties) and the
other WIOD primary rows; the part of them that the world's tariffs on imported inputs account for moves into the
input cost shares, the rest is the value-added share (income of the country's representative household in CP).
Final-demand shares are the table's final demand at tariff-inclusive prices,
``alpha[j, k] = sum_i Y[(i,k), j] (1 + t[i, j, k]) / sum_k (...)``, which is exactly what the identities imply
(``X - sum_s io Y``, CP eq. 7 at the data) without its rounding noise, so the baseline is an exact equilibrium.

References
----------
Caliendo, L. and F. Parro (2015), Review of Economic Studies 82(1), 1-44, equations (1)-(10).
Miller, R. E. and P. D. Blair (2009), *Input-Output Analysis*, 2nd ed., section 2.2 (x = (I - A)⁻¹ y).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import DataError
from ...world import World
from .table import MrioTable

INVENTORY_RULES = ("zero", "keep")


@dataclass(frozen=True)
class InventoryAdjustment:
    """What the inventory rule changed (USD millions)."""

    rule: str
    inventory_removed_usd_mn: float
    negative_cells_zeroed: int
    negative_zeroed_usd_mn: float
    max_output_change: float

    def record(self) -> dict:
        return {"rule": self.rule, "inventory_removed_usd_mn": self.inventory_removed_usd_mn,
                "negative_final_demand_cells_zeroed": self.negative_cells_zeroed,
                "negative_final_demand_zeroed_usd_mn": self.negative_zeroed_usd_mn,
                "max_relative_output_change": self.max_output_change}

    def summary(self) -> str:
        if self.rule == "keep":
            return "inventories kept as final demand"
        return (f"inventory changes set to 0 ({self.inventory_removed_usd_mn:,.1f} USD mn), "
                f"{self.negative_cells_zeroed} other negative final-demand cells set to 0 "
                f"({self.negative_zeroed_usd_mn:,.1f} USD mn), output recomputed (max change {self.max_output_change:.3%})")


def apply_inventory_rule(table: MrioTable, rule: str = "zero") -> tuple[MrioTable, InventoryAdjustment]:
    """The table after the inventory rule (module docstring) and a record of what changed."""
    if rule not in INVENTORY_RULES:
        raise DataError(f"inventories: unknown rule {rule!r}; expected one of {', '.join(INVENTORY_RULES)}")
    if rule == "keep":
        _check_keep(table)
        return table, InventoryAdjustment("keep", 0.0, 0, 0.0, 0.0)
    inv = [k for k, c in enumerate(table.categories) if c in table.inventory]
    y = np.array(table.Y, dtype=float)
    removed = float(y[:, :, inv].sum())
    y[:, :, inv] = 0.0
    neg = y < 0
    zeroed = float(-y[neg].sum()) if neg.any() else 0.0
    y[neg] = 0.0
    x = table.x
    safe = np.where(x > 0, x, 1.0)
    A = np.where(x[None, :] > 0, table.Z / safe[None, :], 0.0)
    v = np.where(x > 0, table.primary / safe, 0.0)
    if (A < 0).any():
        k = np.unravel_index(int(np.argmin(A)), A.shape)
        raise DataError(f"negative intermediate use {table.Z[k]:.6g} USD mn from {table.label(k[0])} to {table.label(k[1])}")
    x_new = np.linalg.solve(np.eye(len(x)) - A, y.sum(axis=(1, 2)))
    x_new = np.where(np.abs(x_new) < 1e-9 * max(1.0, float(np.abs(x_new).max())), 0.0, x_new)
    if (x_new < 0).any():
        k = int(np.argmin(x_new))
        raise DataError(f"inventories: output recomputed without inventories is negative at {table.label(k)} "
                        "(intermediate inputs exceed output in the source)")
    change = float(np.max(np.abs(x_new - x) / np.where(x > 0, x, 1.0)))
    out = MrioTable(table.regions, table.sectors, table.categories, A * x_new[None, :], y, v * x_new,
                    table.inventory, table.sector_names, table.meta)
    return out, InventoryAdjustment("zero", removed, int(neg.sum()), zeroed, change)


def _check_keep(table: MrioTable) -> None:
    n, s = table.n_regions, table.n_sectors
    flows = table.Z.reshape(n, s, n, s).sum(axis=3) + table.Y.sum(axis=2).reshape(n, s, n)
    fd = table.Y.sum(axis=2).reshape(n, s, n).sum(axis=0)  # (sector, buyer)
    if (flows < -1e-9).any() or (fd < -1e-9).any():
        if (fd < -1e-9).any():
            k, j = np.unravel_index(int(np.argmin(fd)), fd.shape)
            where = f"final demand of {table.regions[j]} for sector {table.sectors[k]} is {fd[k, j]:.6g} USD mn"
        else:
            i, k, j = np.unravel_index(int(np.argmin(flows)), flows.shape)
            where = f"flow {table.regions[i]} -> {table.regions[j]} in sector {table.sectors[k]} is {flows[i, k, j]:.6g} USD mn"
        raise DataError(f"inventories='keep': {where} (negative inventory changes); use inventories='zero'")


def world_arrays(table: MrioTable, tariffs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``flows``, ``io_share``, ``value_added_share`` (module docstring) from a table and tariffs (N, N, S)."""
    n, s = table.n_regions, table.n_sectors
    t = np.zeros((n, n, s)) if tariffs is None else np.asarray(tariffs, dtype=float)
    if t.shape != (n, n, s):
        raise DataError(f"tariffs: expected shape {(n, n, s)}, got {t.shape}")
    Z4 = table.Z.reshape(n, s, n, s)  # (origin i, input k, buyer j, output s)
    flows = np.transpose(Z4.sum(axis=3) + table.Y.sum(axis=2).reshape(n, s, n), (0, 2, 1))
    spend = np.einsum("ikjs,ijk->jks", Z4, 1.0 + t)
    x = table.x.reshape(n, s)
    safe = np.where(x > 0, x, 1.0)
    io = np.where(x[:, None, :] > 0, spend / safe[:, None, :], 0.0)
    va = np.where(x > 0, 1.0 - io.sum(axis=1), 1.0)
    if (va <= 0).any():
        j, k = np.unravel_index(int(np.argmin(va)), va.shape)
        raise DataError(f"value-added share {va[j, k]:.4g} <= 0 at {table.regions[j]}/{table.sectors[k]}: its primary inputs "
                        "do not cover the tariffs on its imported inputs (or are negative in the source)")
    fd = np.einsum("ikj,ijk->jk", table.Y.sum(axis=2).reshape(n, s, n), 1.0 + t)  # (buyer, sector), tariff-inclusive
    tot = fd.sum(axis=1)
    if (fd < 0).any() or (tot <= 0).any():
        j = int(np.argmin(tot)) if (tot <= 0).any() else int(np.nonzero((fd < 0).any(axis=1))[0][0])
        raise DataError(f"final demand of {table.regions[j]} is negative or zero; use inventories='zero'")
    return {"flows": flows, "io_share": io, "value_added_share": va, "final_demand_share": fd / tot[:, None]}


def world_to_mrio(world: World) -> MrioTable:
    """The MRIO table a world implies: final demand in one category, intermediate use split by origin with the world's
    sourcing shares (CP: intermediate and final buyers in j source sector k alike).

    ``Z[(i,k),(j,s)] = pi[i,j,k] / (1 + t[i,j,k]) * io[j,k,s] * Y[j,s]``, ``final = flows - intermediate``,
    ``primary = Y - Z'1``. Totals by region (output, primary inputs, final demand, intermediate use, exports,
    imports) equal those of the table the world was built from.
    """
    n, s = world.n_regions, world.n_sectors
    pi = world.trade_share  # (i, j, k)
    go = world.gross_output  # (j, s)
    Z4 = np.einsum("ijk,jks,js->ikjs", pi / (1.0 + world.tariffs), world.io_share, go)
    fin = np.transpose(world.flows, (0, 2, 1)) - Z4.sum(axis=3)  # (i, k, j)
    Z = Z4.reshape(n * s, n * s)
    Y = fin.reshape(n * s, n)[:, :, None]
    primary = go.reshape(-1) - Z.sum(axis=0)
    return MrioTable(world.regions, world.sectors, ("final",), Z, Y, primary, (), world.sector_names,
                     {"source": f"world {world.name}"})
