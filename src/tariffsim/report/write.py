"""Write a run's outputs atomically: ``report.html``, ``results.json``, ``tables/*.parquet|csv``.

Everything is written into a temporary sibling folder first; only when every file
is complete is it renamed onto the output folder (a previous tariffsim output
there is moved aside and then deleted). A failure leaves the old output (or
nothing) and no partial report. Outputs never overwrite inputs: a folder that
holds the scenario file or the world's files is refused, and so is an existing
non-empty folder that tariffsim did not write (no ``.tariffsim-output`` marker).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from ..errors import ScenarioError

MARKER = ".tariffsim-output"


def check_out(out: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output folder that would overwrite inputs or a folder tariffsim did not write."""
    out = Path(out).resolve()
    for p in inputs:
        p = Path(p).resolve()
        if p == out or out in p.parents:
            raise ScenarioError(f"--out: output folder {out} holds the input {p}; outputs never overwrite inputs, choose another folder")
    if out.exists():
        if not out.is_dir():
            raise ScenarioError(f"--out: {out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise ScenarioError(f"--out: folder {out} exists, is not empty and was not written by tariffsim; choose another folder or remove it")
    if out.parent.exists() and not out.parent.is_dir():
        raise ScenarioError(f"--out: {out.parent} is a file, not a folder")
    if out.parent != out and not out.parent.exists():
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ScenarioError(f"--out: cannot create {out.parent}: {exc.strerror}") from None


def write_outputs(run, out: Path) -> Path:
    """Render and write everything for ``run`` into ``out`` atomically; returns ``out``."""
    from .html import render_report

    out = Path(out).resolve()
    check_out(out, run.scenario.input_paths())
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise ScenarioError(f"--out: cannot write in {out.parent}: {exc.strerror or exc}") from None
    try:
        opts = run.scenario.outputs
        tables_dir = tmp / "tables"
        tables_dir.mkdir()
        written: dict[str, list[str]] = {}
        for name, df in sorted(run.tables.items()):
            files = []
            if "parquet" in opts.tables:
                df.write_parquet(tables_dir / f"{name}.parquet")
                files.append(f"tables/{name}.parquet")
            if "csv" in opts.tables:
                _flat(df).write_csv(tables_dir / f"{name}.csv")
                files.append(f"tables/{name}.csv")
            written[name] = files
        if opts.json_:
            payload = run.to_json()
            payload["tables"] = written
            (tmp / "results.json").write_text(json.dumps(payload, indent=1, allow_nan=False), encoding="utf-8")
        if opts.report:
            (tmp / "report.html").write_text(render_report(run), encoding="utf-8")
        (tmp / MARKER).write_text("written by tariffsim run; this folder is replaced as a whole on the next run\n",
                                  encoding="utf-8")
        os.chmod(tmp, 0o755)
        _replace_dir(tmp, out)
    except OSError as exc:  # disk full, permissions, a folder that vanished: a user-side problem
        shutil.rmtree(tmp, ignore_errors=True)
        raise ScenarioError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _flat(df):
    """CSV cannot hold nested columns: drop list/struct columns' nesting by casting to strings."""
    import polars as pl

    cols = [pl.col(c).cast(pl.Utf8) if isinstance(t, (pl.List, pl.Struct, pl.Array)) else pl.col(c)
            for c, t in df.schema.items()]
    return df.select(cols)


def _replace_dir(new: Path, out: Path) -> None:
    """Rename ``new`` onto ``out``; an old output there is moved aside first, then deleted."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        if old is not None and not out.exists():
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
