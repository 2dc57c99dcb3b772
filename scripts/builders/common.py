"""Helpers shared by the dataset builders."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl


def write_table(df: pl.DataFrame, out_dir: Path, table: str, columns: dict[str, str]) -> dict:
    """Write ``df`` to ``out_dir/table.parquet`` atomically; return its manifest entry.

    ``columns`` maps each column to its description with units; every column of
    ``df`` must be documented.
    """
    missing = [c for c in df.columns if c not in columns]
    if missing:
        raise ValueError(f"{out_dir.name}.{table}: undocumented columns {missing}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{table}.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    df.write_parquet(tmp, compression="zstd", compression_level=19, statistics=True)
    os.replace(tmp, path)
    return {"rows": df.height, "file": f"{out_dir.name}/{table}.parquet", "columns": {c: columns[c] for c in df.columns}}


def record(name: str, *, title: str, kind: str, year: str, source: str, publisher: str, license: str,
           units: str, citation: str, tables: dict, notes: str = "") -> dict:
    """An attribution record for manifest.json."""
    return {
        "name": name, "title": title, "kind": kind, "year": year, "source": source, "publisher": publisher,
        "license": license, "units": units, "citation": citation, "notes": notes, "tables": tables,
    }
