"""The data catalog: an embedded DuckDB database over the bundled Parquet tables.

Each dataset is a DuckDB schema and each of its tables a view over one Parquet
file, so users can query across datasets with SQL::

    >>> from tariffsim.data import catalog
    >>> query('select count(*) as n from world_io_7x44_2017.flows')['n'][0]
    2156

``manifest.json`` beside the Parquet files holds each dataset's attribution
record (source, publisher, license, year, units, citation) and each table's
documented columns. Datasets added by ``tariffsim data update`` live in the
user data directory (``$TARIFFSIM_HOME``, default ``~/.local/share/tariffsim``)
with the same layout and override bundled tables of the same name.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

import duckdb
import polars as pl

from ..errors import DataError

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"


def user_data_dir() -> Path:
    """Folder for updated datasets (``$TARIFFSIM_HOME`` or ``~/.local/share/tariffsim``)."""
    return Path(os.environ.get("TARIFFSIM_HOME", Path.home() / ".local" / "share" / "tariffsim"))


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB quoted identifier (``"..."`` with inner quotes doubled).

    Dataset and table names come from ``manifest.json`` files a user can edit: they
    reach SQL only through this (or :func:`quote_literal`), so a crafted name is just
    an odd name, never SQL.
    """
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a DuckDB string literal (``'...'`` with inner quotes doubled; DuckDB has no backslash escapes)."""
    return "'" + str(text).replace("'", "''") + "'"


def read_manifest(folder: Path) -> dict:
    """The ``manifest.json`` of a catalog folder (``{}`` if none), validated: dataset names map to records
    whose ``tables`` map each table to ``{"file": ...}``."""
    path = folder / "manifest.json"
    if not path.exists():
        return {}
    if not path.is_file():  # a folder or a FIFO (which would block)
        raise DataError(f"{path}: unreadable manifest (not a regular file)")
    try:
        m = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(m, dict):
        raise DataError(f"{path}: manifest must map dataset names to records, got {type(m).__name__}")
    for name, rec in m.items():
        if not name or "\x00" in name:
            raise DataError(f"{path}: dataset name {name!r} is empty or contains a NUL character")
        tables = rec.get("tables") if isinstance(rec, dict) else None
        if not isinstance(tables, dict) or not all(isinstance(t, dict) and isinstance(t.get("file"), str) for t in tables.values()):
            raise DataError(f"{path}: dataset {name!r}: record needs 'tables' mapping each table to {{'file': ...}}")
        for table, t in tables.items():
            f = Path(t["file"])
            if f.is_absolute() or ".." in f.parts:
                raise DataError(f"{path}: dataset {name!r}, table {table!r}: file {t['file']!r} must lie inside the catalog folder")
    return m


def manifest() -> dict[str, dict]:
    """Attribution records of every dataset: bundled, overridden by user updates."""
    out = dict(bundled_manifest())
    for name, rec in read_manifest(user_data_dir()).items():
        rec = dict(rec)
        rec["_root"] = str(user_data_dir())
        out[name] = rec
    return out


@lru_cache(maxsize=1)
def bundled_manifest() -> dict[str, dict]:
    """Attribution records of the datasets shipped with the package (cached)."""
    m = read_manifest(BUNDLED_DIR)
    for rec in m.values():
        rec["_root"] = str(BUNDLED_DIR)
    return m


def dataset_names() -> list[str]:
    return sorted(manifest())


def dataset_record(name: str) -> dict:
    m = manifest()
    if name not in m:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(sorted(m))}")
    return m[name]


def table_path(dataset: str, table: str) -> Path:
    rec = dataset_record(dataset)
    if table not in rec["tables"]:
        raise DataError(f"dataset {dataset!r} has no table {table!r}; tables: {', '.join(rec['tables'])}")
    path = Path(rec["_root"]) / rec["tables"][table]["file"]
    if not path.exists():
        raise DataError(f"{dataset}.{table}: file {path} is missing (rebuild with scripts/build_data.py)")
    return path


def read_table(dataset: str, table: str) -> pl.DataFrame:
    """One catalog table as a polars DataFrame."""
    path = table_path(dataset, table)
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow/polars raise many kinds
        raise DataError(f"{dataset}.{table}: cannot read {path.name} ({type(exc).__name__})") from None


_LOCAL = threading.local()


def catalog() -> duckdb.DuckDBPyConnection:
    """A DuckDB cursor on the in-memory catalog: one schema per dataset, one view per table.

    Each call returns a fresh cursor (DuckDB 2 refuses new work on a connection
    with an unfinished result), all sharing the same catalog.
    """
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = duckdb.connect(":memory:")
        _attach(con)
        _LOCAL.con = con
    return con.cursor()


def query(sql: str, params: list | None = None) -> pl.DataFrame:
    """Run SQL against the catalog and return a polars DataFrame."""
    cur = catalog()
    try:
        rel = cur.sql(sql, params=params) if params else cur.sql(sql)
        return pl.from_arrow(rel.to_arrow_table())
    except duckdb.Error as exc:
        raise DataError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        cur.close()


def refresh() -> None:
    """Drop the cached connection and manifest (after an update)."""
    _LOCAL.con = None
    bundled_manifest.cache_clear()


def _attach(con: duckdb.DuckDBPyConnection) -> None:
    """One schema per dataset, one view per table; every name and path is quoted (never spliced in raw)."""
    for name, rec in manifest().items():
        schema = quote_identifier(name)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table, tinfo in rec["tables"].items():
            path = Path(rec["_root"]) / tinfo["file"]
            if path.is_file():
                con.execute(f"CREATE OR REPLACE VIEW {schema}.{quote_identifier(table)} AS "
                            f"SELECT * FROM read_parquet({quote_literal(str(path))})")


def list_datasets() -> pl.DataFrame:
    """Tidy table of datasets: name, kind, year, tables, rows, source, license."""
    rows = []
    for name, rec in sorted(manifest().items()):
        rows.append({
            "name": name,
            "kind": rec.get("kind", ""),
            "year": str(rec.get("year", "")),
            "tables": len(rec["tables"]),
            "rows": int(sum(t.get("rows", 0) for t in rec["tables"].values())),
            "source": rec.get("source", ""),
            "license": rec.get("license", ""),
        })
    return pl.DataFrame(rows)


def info(name: str) -> dict:
    """Attribution record and documented columns of one dataset."""
    rec = dict(dataset_record(name))
    rec.pop("_root", None)
    return rec
