"""Build :class:`~tariffsim.world.World` objects from tidy tables (bundled or the user's files).

Tidy format (documented in docs/data.md): ``flows(exporter, importer, sector,
value_usd_mn)`` is required; optional ``tariffs(exporter, importer, sector,
tariff_rate)``, ``theta(sector, theta)``, ``value_added(country, sector,
va_share)``, ``io(country, input_sector, output_sector, io_share)``,
``final_demand(country, sector, alpha)``, ``regions(code, name)``,
``sectors(code, name)``. Missing (exporter, importer, sector) cells are zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import polars as pl

from .. import safe_load
from ..errors import DataError, show_code
from ..world import World
from .catalog import dataset_record, read_table

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "flows": ("exporter", "importer", "sector", "value_usd_mn"),
    "tariffs": ("exporter", "importer", "sector", "tariff_rate"),
    "theta": ("sector", "theta"),
    "value_added": ("country", "sector", "va_share"),
    "io": ("country", "input_sector", "output_sector", "io_share"),
    "final_demand": ("country", "sector", "alpha"),
    "regions": ("code",),
    "sectors": ("code",),
}

# Worlds whose shipped final-demand shares do not match their flows exactly: the
# model layer re-solves the baseline equilibrium with the shipped shares (as Caliendo
# and Parro do for 1993), so the World it uses is an exact equilibrium.
_REBASE = {"world_io_7x44_2017"}


def _check_columns(table: str, df: pl.DataFrame, source: str) -> pl.DataFrame:
    need = TABLE_COLUMNS[table]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{source}: table {table!r} lacks column(s) {', '.join(missing)}")
    # Code columns (every required column but the value) must be filled in on every row.
    for col in need[:-1] if len(need) > 1 else need:
        vals = df[col].cast(pl.Utf8, strict=False)
        blank = (vals.is_null() | (vals.str.strip_chars() == "")).to_numpy()
        if blank.any():
            raise DataError(f"{table}: missing code in column {col!r} at row {int(np.nonzero(blank)[0][0]) + 1}")
    return df


def _index_codes(df: pl.DataFrame, cols: tuple[str, ...], codes: tuple[tuple[str, ...], ...], table: str) -> list[np.ndarray]:
    out = []
    for col, known in zip(cols, codes):
        pos = {c: k for k, c in enumerate(known)}
        vals = df[col].cast(pl.Utf8).to_list()
        idx = np.empty(len(vals), dtype=np.int64)
        for r, v in enumerate(vals):
            k = pos.get(v)
            if k is None:
                raise DataError(f"{table}: unknown code {v!r} in column {col!r} at row {r + 1}")
            idx[r] = k
        out.append(idx)
    return out


def _dense(df: pl.DataFrame, table: str, keys: tuple[str, ...], value: str, codes, shape) -> np.ndarray:
    idx = _index_codes(df, keys, codes, table)
    flat = np.ravel_multi_index(tuple(idx), shape)
    if len(np.unique(flat)) != len(flat):
        dup = df.with_row_index("row").filter(pl.struct(list(keys)).is_duplicated()).row(0, named=True)
        raise DataError(f"{table}: duplicate key {tuple(dup[k] for k in keys)} at row {dup['row'] + 1}")
    try:
        vals = df[value].cast(pl.Float64, strict=True).to_numpy()
    except Exception:  # noqa: BLE001
        raise DataError(f"{table}: column {value!r} is not numeric") from None
    bad = ~np.isfinite(vals)
    if bad.any():
        r = int(np.nonzero(bad)[0][0])
        raise DataError(f"{table}: non-finite {value} ({vals[r]}) at row {r + 1}")
    arr = np.zeros(int(np.prod(shape)))
    arr[flat] = vals
    return arr.reshape(shape)


def world_from_tables(tables: Mapping[str, pl.DataFrame], *, name: str, meta: Mapping | None = None) -> World:
    """Assemble and validate a World from tidy tables (see module docstring)."""
    if "flows" not in tables:
        raise DataError(f"{name}: table 'flows' is required")
    t = {k: _check_columns(k, v, name) for k, v in tables.items() if k in TABLE_COLUMNS}
    flows_df = t["flows"]
    if flows_df.height == 0:
        raise DataError(f"{name}: table 'flows' is empty")
    vals = flows_df["value_usd_mn"].cast(pl.Float64, strict=False)
    if vals.null_count() > flows_df["value_usd_mn"].null_count() or flows_df["value_usd_mn"].null_count():
        r = int(np.nonzero(vals.is_null().to_numpy())[0][0])
        raise DataError(f"flows: value_usd_mn is missing or not numeric at row {r + 1}")
    neg = (vals < 0).to_numpy()
    if neg.any():
        r = int(np.nonzero(neg)[0][0])
        row = flows_df.row(r, named=True)
        raise DataError(f"flows: negative value_usd_mn {row['value_usd_mn']} at row {r + 1} ({show_code(row['exporter'])} -> {show_code(row['importer'])}, sector {show_code(row['sector'])})")

    if "regions" in t:
        regions = tuple(t["regions"]["code"].cast(pl.Utf8).to_list())
    else:
        regions = tuple(sorted(set(flows_df["exporter"].cast(pl.Utf8).to_list()) | set(flows_df["importer"].cast(pl.Utf8).to_list())))
    if "sectors" in t:
        sectors = tuple(t["sectors"]["code"].cast(pl.Utf8).to_list())
        sector_names = tuple(t["sectors"]["name"].cast(pl.Utf8).to_list()) if "name" in t["sectors"].columns else None
    else:
        sectors = tuple(dict.fromkeys(flows_df["sector"].cast(pl.Utf8).to_list()))
        sector_names = None
    n, s = len(regions), len(sectors)
    R, S = regions, sectors
    flows = _dense(flows_df, "flows", ("exporter", "importer", "sector"), "value_usd_mn", (R, R, S), (n, n, s))
    tariffs = _dense(t["tariffs"], "tariffs", ("exporter", "importer", "sector"), "tariff_rate", (R, R, S), (n, n, s)) if "tariffs" in t else None
    if "theta" in t:
        if t["theta"].height != s:
            raise DataError(f"theta: expected one row per sector ({s}), got {t['theta'].height}")
        theta = _dense(t["theta"], "theta", ("sector",), "theta", (S,), (s,))
    else:
        theta = 4.0
    va = _dense(t["value_added"], "value_added", ("country", "sector"), "va_share", (R, S), (n, s)) if "value_added" in t else None
    io = _dense(t["io"], "io", ("country", "input_sector", "output_sector"), "io_share", (R, S, S), (n, s, s)) if "io" in t else None
    alpha = _dense(t["final_demand"], "final_demand", ("country", "sector"), "alpha", (R, S), (n, s)) if "final_demand" in t else None
    return World.from_arrays(
        regions=regions, sectors=sectors, flows=flows, tariffs=tariffs, theta=theta,
        value_added_share=va, io_share=io, final_demand_share=alpha, name=name,
        sector_names=sector_names, meta=meta,
    )


def rebases_by_default(name: str) -> bool:
    """Whether dataset ``name`` ships final-demand shares that do not match its flows
    exactly, so that the model layer should re-solve its baseline before use
    (:func:`tariffsim.models.baseline.load_world` does; a folder of the user's files: no)."""
    return name in _REBASE and not Path(name).exists()


def load_world(name: str) -> World:
    """Load a bundled (or updated) world dataset by name, or a folder of the user's tidy files, as shipped.

    Nothing is solved here. ``tariffsim.load_world`` (:func:`tariffsim.models.baseline.load_world`)
    also re-solves the baseline of datasets listed by :func:`rebases_by_default`.
    """
    p = Path(name)
    if p.suffix == "" and not p.exists():
        rec = dataset_record(name)
        if rec.get("kind") != "world":
            raise DataError(f"dataset {name!r} is not a world (kind {rec.get('kind')!r})")
        tables = {tb: read_table(name, tb) for tb in rec["tables"] if tb in TABLE_COLUMNS}
        meta = {k: rec[k] for k in ("title", "year", "source", "license", "citation", "provenance") if k in rec}
        # --- ossa2014 hook (issue 11): the model's own parameters travel in World.meta ---
        if "sigma" in rec["tables"] or "lambda" in rec["tables"]:
            meta.update(_model_parameters(name, rec, tables))
        return world_from_tables(tables, name=name, meta=meta)
    return read_world_files(p)


def _model_parameters(name: str, rec: Mapping, tables: Mapping[str, pl.DataFrame]) -> dict:
    """Extra model parameters of a dataset, as arrays ordered like its regions and sectors (for World.meta).

    ``sigma`` (sector, sigma): elasticity of substitution (Ossa 2014's Krugman model);
    ``lambda`` (country, sector, lambda_pol): political-economy weights -> ``meta["lambda_pol"]``.
    """
    regions = tuple(tables["regions"]["code"].cast(pl.Utf8).to_list())
    sectors = tuple(tables["sectors"]["code"].cast(pl.Utf8).to_list())
    out: dict = {}
    if "sigma" in rec["tables"]:
        sg = read_table(name, "sigma")
        out["sigma"] = _dense(sg, "sigma", ("sector",), "sigma", (sectors,), (len(sectors),))
    if "lambda" in rec["tables"]:
        lam = read_table(name, "lambda")
        out["lambda_pol"] = _dense(lam, "lambda", ("country", "sector"), "lambda_pol", (regions, sectors), (len(regions), len(sectors)))
    return out


def _read_any(path: Path) -> pl.DataFrame:
    """One tidy table, read by :func:`tariffsim.safe_load.read_table` (regular file, size limit, UTF-8)."""
    return safe_load.read_table(path, what="table", error=DataError, label=path.name, infer_schema_length=10000,
                                schema_overrides={"sector": pl.Utf8, "input_sector": pl.Utf8, "output_sector": pl.Utf8,
                                                  "code": pl.Utf8})


def read_world_files(path: str | Path) -> World:
    """Read a world from a folder of tidy CSV/Parquet files (``flows.csv`` required) or a single flows file."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():     # a broken link or symlink loop: safe_load says which
        raise DataError(f"file not found: {path}")
    files: dict[str, Path] = {}
    if path.is_dir():
        for tb in TABLE_COLUMNS:
            for ext in (".parquet", ".csv"):
                f = path / f"{tb}{ext}"
                if f.exists() or f.is_symlink():
                    files[tb] = f
                    break
        if "flows" not in files:
            raise DataError(f"{path}: no flows.csv or flows.parquet in folder")
    else:
        files["flows"] = path
    tables = {tb: _read_any(f) for tb, f in files.items()}
    return world_from_tables(tables, name=path.stem, meta={"source": str(path)})
