"""Write a run's outputs: ``report.html``, ``results.json``, ``tables/*.parquet|csv``, never losing a user's file.

Everything is written into a fresh temporary sibling folder first; only when every
file is complete is it swapped in. A failure leaves the old output (or nothing) and
no partial report.

The output folder's marker ``.tariffsim-output`` is a small JSON manifest listing
every file the run wrote. When a later run replaces that folder it removes **only
the files listed in the earlier run's manifest**; files tariffsim did not write
(notes, a README, a plot of the user's) stay where they are, and a run that would
overwrite one of them is refused. Further rules (issue 21):

- outputs never overwrite inputs: a folder that holds the scenario file or the
  world's files is refused;
- an existing non-empty folder without a marker is refused (tariffsim did not write it);
- a marker from an older tariffsim (plain text, no manifest) counts ``report.html``,
  ``results.json`` and the tables that ``results.json`` lists as that run's files.
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
#: Files every run may write besides its tables (checked against user files before any work is done).
FIXED_FILES = ("report.html", "results.json", MARKER)


def check_out(out: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output folder that would overwrite inputs, a folder tariffsim did not write, or a user's file."""
    out = Path(out).resolve()
    for p in inputs:
        p = Path(p).resolve()
        if p == out or out in p.parents:
            raise ScenarioError(f"--out: output folder {out} holds the input {p}; outputs never overwrite inputs, choose another folder")
    if out.exists():
        if not out.is_dir():
            raise ScenarioError(f"--out: {out} exists and is not a folder")
        if any(out.iterdir()):
            if not (out / MARKER).exists():
                raise ScenarioError(f"--out: folder {out} exists, is not empty and was not written by tariffsim; "
                                    f"choose another folder or remove it")
            _refuse_user_files(out, set(FIXED_FILES))
    if out.parent.exists() and not out.parent.is_dir():
        raise ScenarioError(f"--out: {out.parent} is a file, not a folder")
    if out.parent != out and not out.parent.exists():
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ScenarioError(f"--out: cannot create {out.parent}: {exc.strerror}") from None


def previous_run_files(out: Path) -> set[str]:
    """Relative paths (``tables/x.csv``) that the run which wrote ``out`` listed in its manifest (the marker itself included)."""
    from .. import safe_load

    marker = out / MARKER
    try:
        text = safe_load.read_text(marker, what="output marker", max_bytes=4 << 20)
        files = json.loads(text)["files"]
        if not isinstance(files, list):
            raise TypeError
        listed = {str(f) for f in files}
    except (ValueError, KeyError, TypeError):     # an older tariffsim's plain-text marker (or an unreadable one)
        listed = {"report.html", "results.json"}
        try:
            res = json.loads(safe_load.read_text(out / "results.json", what="results", max_bytes=64 << 20))
            listed |= {str(f) for fs in res.get("tables", {}).values() for f in fs}
        except Exception:  # noqa: BLE001 - an unreadable results.json lists nothing
            pass
    safe = {f for f in listed if not Path(f).is_absolute() and ".." not in Path(f).parts}
    return safe | {MARKER}


def _user_files(out: Path) -> set[str]:
    """Files (and links, pipes...) under ``out`` that the previous run's manifest does not list."""
    ours = previous_run_files(out)
    found = set()
    for dirpath, dirnames, filenames in os.walk(out):
        for n in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            rel = (Path(dirpath) / n).relative_to(out).as_posix()
            if rel not in ours:
                found.add(rel)
    return found


def _refuse_user_files(out: Path, new_files: set[str]) -> None:
    clash = sorted(_user_files(out) & new_files)
    if clash:
        raise ScenarioError(f"--out: {out / clash[0]} was not written by tariffsim and this run would overwrite it; "
                            f"move it or choose another folder")


def write_outputs(run, out: Path) -> Path:
    """Render and write everything for ``run`` into ``out``; returns ``out``."""
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
        files = [f for fs in written.values() for f in fs]
        if opts.json_:
            payload = run.to_json()
            payload["tables"] = written
            (tmp / "results.json").write_text(json.dumps(payload, indent=1, allow_nan=False), encoding="utf-8")
            files.append("results.json")
        if opts.report:
            (tmp / "report.html").write_text(render_report(run), encoding="utf-8")
            files.append("report.html")
        manifest = {"written_by": "tariffsim run",
                    "note": "the next run into this folder removes only the files listed here",
                    "files": sorted(files) + [MARKER]}
        (tmp / MARKER).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)
        _swap_in(tmp, out, set(manifest["files"]))
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


def _swap_in(new: Path, out: Path, new_files: set[str]) -> None:
    """Put the finished folder ``new`` at ``out``.

    No earlier output, or one holding only its own listed files: ``out`` is moved aside,
    ``new`` renamed onto it, and the old folder deleted. An earlier output that also holds
    files of the user's: only the files its manifest lists are moved aside (then deleted),
    the new files moved in one by one (the marker last), and the user's files stay.
    """
    if not out.exists() or not any(out.iterdir()):
        if out.exists():
            out.rmdir()
        os.replace(new, out)
        return
    user = _user_files(out)
    if user & new_files:        # checked before the run too; the tables' names are known only now
        _refuse_user_files(out, new_files)
    if not user:
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        os.replace(out, old)
        try:
            os.replace(new, out)
        except BaseException:
            os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    moved: list[str] = []
    try:
        for rel in sorted(previous_run_files(out), key=lambda r: r == MARKER):
            src = out / rel
            if src.is_file() or src.is_symlink():
                (old / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, old / rel)
                moved.append(rel)
        for rel in sorted(new_files, key=lambda r: r == MARKER):     # the marker last: it vouches for the rest
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(new / rel, out / rel)
    except BaseException:
        for rel in moved:           # put the earlier run back where it was
            if not (out / rel).exists():
                os.replace(old / rel, out / rel)
        raise
    for rel in {str(Path(r).parent) for r in moved} - {"."}:
        d = out / rel
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(new, ignore_errors=True)
