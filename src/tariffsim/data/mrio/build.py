"""Build a World from MRIO files in two steps: :func:`prepare` (parse, theta, aggregate, inventories) and
:func:`calibrate` (tariffs -> World + catalog tables + provenance); :func:`save` registers it in the user catalog.

Tariffs from the product schedules need a world first (they are aggregated with its flows), so they are composed
above this layer (``tariffsim.build_world``, with :mod:`tariffsim.policy.sector_tariffs`); here tariffs are an
array or the user's CSV ``exporter, importer, sector, tariff_rate`` (cells not listed: 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib.metadata import version as _version
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import polars as pl

from ...errors import DataError
from ...world import World
from ..catalog import read_table
from ..worlds import world_from_tables
from .aggregate import aggregate_table, concordance
from .calibrate import InventoryAdjustment, apply_inventory_rule, world_arrays
from .maps import apply_map, load_map
from .parse import read_mrio, require_pymrio
from .provenance import build_command, world_record
from .table import MrioTable
from .theta import aggregate_theta, theta_for_sectors

COLUMNS: dict[str, dict[str, str]] = {
    "regions": {"code": "region code (ISO3 or aggregate)", "name": "name"},
    "sectors": {"code": "sector code", "name": "name"},
    "flows": {"exporter": "exporter code", "importer": "importer code", "sector": "sector code",
              "value_usd_mn": "intermediate + final use at basic prices (before the importer's tariff), USD millions"},
    "tariffs": {"exporter": "exporter code", "importer": "importer code", "sector": "sector code",
                "tariff_rate": "ad valorem tariff levied by importer on exporter, fraction"},
    "theta": {"sector": "sector code", "theta": "trade elasticity, mapped from Caliendo-Parro (provenance.theta_mapping)"},
    "value_added": {"country": "country code", "sector": "sector code", "va_share": "value-added share of gross output"},
    "io": {"country": "country code", "input_sector": "input sector", "output_sector": "output sector",
           "io_share": "share of output sector's cost spent on input sector (tariff-inclusive)"},
    "final_demand": {"country": "country code", "sector": "sector code", "alpha": "final-demand share, sums to 1"},
}


@dataclass(frozen=True, eq=False)
class PreparedTable:
    """A parsed, aggregated, inventory-adjusted table with its sector θ and the records provenance needs."""

    table: MrioTable
    theta: np.ndarray
    inventory: InventoryAdjustment
    source: str
    year: int
    files: tuple[str, ...]
    maps: tuple[dict, ...]
    theta_mapping: tuple[dict, ...]
    source_shape: tuple[int, int]
    spec: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class BuiltWorld:
    """The built World, the tidy catalog tables it is stored as, and its manifest record (with provenance)."""

    world: World
    tables: Mapping[str, pl.DataFrame]
    record: Mapping[str, Any]
    table: MrioTable

    def summary(self) -> str:
        p = self.record["provenance"]
        return (f"{self.world.name}: {self.world.n_regions} regions x {self.world.n_sectors} sectors from "
                f"{self.record['source']}; license {self.record['license']}; inventories: {p['inventories']['rule']}; "
                f"tariffs: {p['tariffs']['source']}; built by: {p['build_command']}")

    def __repr__(self) -> str:
        return f"BuiltWorld({self.world!r})"


def prepare(source: str, path: str | Path, *, year: int | None, regions: Any = None, sectors: Any = None,
            inventories: str = "zero") -> PreparedTable:
    """Parse the source files, map θ, apply the inventory rule, then aggregate (see the package docs)."""
    fine = read_mrio(source, path, year=year)
    year = int(fine.meta["year"])
    maps, rmap, smap, s_targets = [], None, None, None
    if regions is not None:
        rmap, rec = load_map(regions, kind="region")
        apply_map(fine.regions, rmap, kind="region", where=rec["map"])  # refuse a map that misses a region early
        maps.append(rec)
    if sectors is not None:
        smap, rec = load_map(sectors, kind="sector")
        s_targets = apply_map(fine.sectors, smap, kind="sector", where=rec["map"])
        maps.append(rec)
    cp = read_table("elasticities", "theta_cp")
    theta_fine, theta_rec = theta_for_sectors(fine.sectors, dict(zip(cp["sector"].to_list(), cp["theta"].to_list())))
    adjusted, inv = apply_inventory_rule(fine, inventories)
    agg = aggregate_table(adjusted, regions=rmap, sectors=smap, where=", ".join(m["map"] for m in maps))
    if smap is not None:
        n, s = fine.n_regions, fine.n_sectors
        ship = adjusted.Z.reshape(n, s, n, s).sum(axis=3) + adjusted.Y.sum(axis=2).reshape(n, s, n)
        intl = np.einsum("ikj,ij->k", ship, 1.0 - np.eye(n))  # international sales by sector
        theta = aggregate_theta(theta_fine, intl, concordance(fine.sectors, s_targets, agg.sectors))
        theta_rec = [{**r, "world_sector": t} for r, t in zip(theta_rec, s_targets)]
    else:
        theta = theta_fine
    if isinstance(sectors, str) and sectors == "icio44":  # names of the 44 sectors of the default layout
        names = dict(zip(*read_table("world_io_7x44_2017", "sectors").select("code", "name").to_dict(as_series=False).values()))
        agg = replace(agg, sector_names=tuple(names.get(s, s) for s in agg.sectors))
    def shown(m: Any) -> str | None:
        return None if m is None else (str(m) if isinstance(m, (str, Path)) else "<given in code>")

    spec = {"regions": shown(regions), "sectors": shown(sectors), "path": str(path), "inventories": inventories}
    return PreparedTable(agg, theta, inv, source, year, tuple(fine.meta["files"]), tuple(maps), tuple(theta_rec),
                         (fine.n_regions, fine.n_sectors), spec)


def read_tariff_csv(path: str | Path, regions: tuple[str, ...], sectors: tuple[str, ...]) -> np.ndarray:
    """Tariffs (N, N, S) from a tidy CSV ``exporter, importer, sector, tariff_rate``; cells not listed are 0."""
    from ... import safe_load

    df = safe_load.read_table(path, what="tariff table", error=DataError, schema_overrides={"sector": pl.Utf8})
    need = ("exporter", "importer", "sector", "tariff_rate")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: tariff table lacks column(s) {', '.join(missing)}")
    ri, si = {r: k for k, r in enumerate(regions)}, {s: k for k, s in enumerate(sectors)}
    t = np.zeros((len(regions), len(regions), len(sectors)))
    seen = set()
    for r, row in enumerate(df.select(need).iter_rows()):
        e, m, s = (None if x is None else str(x) for x in row[:3])
        for col, code, known in (("exporter", e, ri), ("importer", m, ri), ("sector", s, si)):
            if code not in known:
                raise DataError(f"{path}: row {r + 2}: unknown {col} {code!r}")
        try:
            rate = float(row[3])
        except (TypeError, ValueError):
            raise DataError(f"{path}: row {r + 2}: tariff_rate {row[3]!r} is not a number") from None
        if not np.isfinite(rate) or rate <= -1:
            raise DataError(f"{path}: row {r + 2}: tariff_rate {rate!r} must be finite and > -1")
        if e == m and rate != 0:
            raise DataError(f"{path}: row {r + 2}: own tariff of {e} must be 0")
        key = (e, m, s)
        if key in seen:
            raise DataError(f"{path}: row {r + 2}: duplicate ({e}, {m}, {s})")
        seen.add(key)
        t[ri[e], ri[m], si[s]] = rate
    return t


def calibrate(prep: PreparedTable, *, name: str, tariffs: np.ndarray | str | Path | None = None,
              tariff_record: Mapping[str, Any] | None = None) -> BuiltWorld:
    """World, tables and record from a prepared table and tariffs (array, CSV path or None = zero)."""
    t = prep.table
    if tariffs is None:
        arr, trec = None, {"source": "none (all tariffs 0)", "sectors_without_tariff_data": list(t.sectors)}
    elif isinstance(tariffs, (str, Path)):
        arr = read_tariff_csv(tariffs, t.regions, t.sectors)
        has = np.abs(arr).sum(axis=(0, 1)) > 0
        trec = {"source": f"user CSV {tariffs}", "sectors_without_tariff_data": [s for s, h in zip(t.sectors, has) if not h]}
    else:
        arr = np.asarray(tariffs, dtype=float)
        trec = dict(tariff_record or {"source": "given in code"})
    a = world_arrays(t, arr)
    meta_base = {"title": "", "year": str(prep.year)}
    names = t.sector_names if t.sector_names is not None else t.sectors
    w0 = World.from_arrays(regions=t.regions, sectors=t.sectors, flows=a["flows"], tariffs=arr, theta=prep.theta,
                           value_added_share=a["value_added_share"], io_share=a["io_share"],
                           final_demand_share=a["final_demand_share"], name=name, sector_names=names, meta=meta_base)
    tables = world_tables(w0)
    pymrio = require_pymrio()
    command = build_command(prep.source, prep.spec.get("path", ""), year=prep.year, name=name,
                            regions=prep.spec.get("regions"), sectors=prep.spec.get("sectors"),
                            tariffs=None if tariffs is None else (str(tariffs) if isinstance(tariffs, (str, Path)) else trec.get("option", "<given in code>")),
                            inventories=prep.spec.get("inventories", "zero"))
    record = world_record(source=prep.source, year=prep.year, files=prep.files, command=command, maps=prep.maps,
                          inventory=prep.inventory.record(), theta=prep.theta_mapping, tariffs=trec,
                          versions={"tariffsim": _version("tariffsim"), "pymrio": pymrio.__version__},
                          shape=(t.n_regions, t.n_sectors), source_shape=prep.source_shape)
    world = world_from_tables(tables, name=name, meta=world_meta(record))
    return BuiltWorld(world, tables, record, t)


def world_meta(record: Mapping[str, Any]) -> dict[str, Any]:
    """What ``World.meta`` carries of a manifest record (as :func:`tariffsim.data.load_world` sets it)."""
    return {k: record[k] for k in ("title", "year", "source", "license", "citation", "provenance") if k in record}


def world_tables(w: World) -> dict[str, pl.DataFrame]:
    """The tidy catalog tables of a world (``docs/data.md`` format), every cell listed."""
    n, s = w.n_regions, w.n_sectors
    R, S = list(w.regions), list(w.sectors)
    ii, jj, kk = np.meshgrid(np.arange(n), np.arange(n), np.arange(s), indexing="ij")
    trip = {"exporter": [R[i] for i in ii.ravel()], "importer": [R[j] for j in jj.ravel()],
            "sector": [S[k] for k in kk.ravel()]}
    cc, ss = np.meshgrid(np.arange(n), np.arange(s), indexing="ij")
    pair = {"country": [R[i] for i in cc.ravel()], "sector": [S[k] for k in ss.ravel()]}
    c3, a3, b3 = np.meshgrid(np.arange(n), np.arange(s), np.arange(s), indexing="ij")
    return {
        "regions": pl.DataFrame({"code": R, "name": R}),
        "sectors": pl.DataFrame({"code": S, "name": list(w.sector_names or S)}),
        "flows": pl.DataFrame({**trip, "value_usd_mn": w.flows.ravel()}),
        "tariffs": pl.DataFrame({**trip, "tariff_rate": w.tariffs.ravel()}),
        "theta": pl.DataFrame({"sector": S, "theta": w.theta}),
        "value_added": pl.DataFrame({**pair, "va_share": w.value_added_share.ravel()}),
        "io": pl.DataFrame({"country": [R[i] for i in c3.ravel()], "input_sector": [S[k] for k in a3.ravel()],
                            "output_sector": [S[k] for k in b3.ravel()], "io_share": w.io_share.ravel()}),
        "final_demand": pl.DataFrame({**pair, "alpha": w.final_demand_share.ravel()}),
    }


def save(built: BuiltWorld, *, home: str | Path | None = None) -> dict:
    """Register a built world in the user catalog (``tariffsim data list``); returns its manifest record."""
    from ..update import commit_dataset

    return commit_dataset(built.world.name, built.tables, built.record, {}, COLUMNS,
                          home=Path(home) if home is not None else None)
