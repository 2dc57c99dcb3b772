"""Writing an updated dataset into the user catalog: one commit point, one update at a time.

Layout (``$TARIFFSIM_HOME``, see :func:`~tariffsim.data.catalog.user_data_dir`)::

    manifest.json                          the catalog's single source of truth
    <dataset>/<version>/<table>.parquet    one folder per committed version
    .update.lock                           held while an update runs (JSON: pid, host, start)

Never a half-written catalog. A new version is written into a folder of its
own that nothing references yet, read back and counted inside one DuckDB
transaction, and then ``manifest.json`` is replaced (temp file +
``os.replace``): that rename is the only commit point. An update that fails
or is killed before it leaves the old manifest and the old files untouched;
one killed after it has committed. Folders no manifest record references
(left by a killed update, or the version a commit replaced) are removed by
the next update, under the lock.

The lock records its holder's PID, host and start time. A lock whose process
is gone (same host, PID not running, or running but started at another time)
is stale and is taken over; a live holder, or one on another host, is
reported in a one-line :class:`~tariffsim.errors.DataError`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import duckdb
import polars as pl

from ..errors import DataError
from .catalog import quote_identifier, quote_literal, read_manifest, refresh, user_data_dir
from .update_http import _now

LOCK_NAME = ".update.lock"
#: Version folders: ``v<UTC time>-<random>``; only names of this form are ever removed.
VERSION_RE = re.compile(r"v\d{8}T\d{6}Z-[0-9a-f]{8}")
DATASET_RE = re.compile(r"[a-z][a-z0-9_]*")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- lock
def _process_start(pid: int) -> str | None:
    """Start time of a process in clock ticks since boot (Linux ``/proc``), or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]        # field 22, counted after the command name


def _holder_alive(holder: Mapping[str, Any] | None) -> bool:
    """Whether the process recorded in a lock may still be running (unknown counts as alive)."""
    if holder is None:
        return True
    if holder.get("host") not in (None, socket.gethostname()):
        return True                                   # another machine: cannot tell
    try:
        pid = int(holder["pid"])
    except (KeyError, TypeError, ValueError):
        return True
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass                                          # exists, owned by someone else
    started = holder.get("process_start")
    now = _process_start(pid)
    return not (started and now and started != now)  # PID reused by another process: stale


def _read_lock(path: Path) -> dict | None:
    """The lock's record; an old-style lock holding only a PID reads as ``{"pid": ...}``."""
    try:
        text = path.read_text()
    except OSError:
        return None
    try:
        rec = json.loads(text)
    except ValueError:
        rec = None
    if isinstance(rec, int) or (isinstance(rec, str) and rec.strip().isdigit()):
        return {"pid": int(rec)}
    return rec if isinstance(rec, dict) else None


@contextlib.contextmanager
def update_lock(home: Path) -> Iterator[None]:
    """Hold ``home/.update.lock`` for the duration; take over a stale lock (module docstring).

    The lock file is created complete (written to a temp file, then hard-linked into
    place, which fails if a lock exists), so a reader never sees a lock without its PID.
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "process_start": _process_start(os.getpid()),
            "started_at": _now()}
    tmp = home / f"{LOCK_NAME}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps(mine))
    try:
        for _ in range(3):
            try:
                os.link(tmp, path)
                break
            except FileExistsError:
                holder = _read_lock(path)
                if _holder_alive(holder):
                    who = (f"pid {holder.get('pid')} on {holder.get('host', '?')} since {holder.get('started_at', '?')}"
                           if holder else "unreadable lock")
                    raise DataError(f"another update is running ({who}; lock {path}); "
                                    "wait for it, or delete the lock if that process is gone") from None
                # stale: move it aside, and put it back if it changed under us (another taker)
                aside = home / f"{LOCK_NAME}.stale.{uuid.uuid4().hex}"
                with contextlib.suppress(FileNotFoundError):
                    os.replace(path, aside)
                    if _read_lock(aside) != holder:
                        with contextlib.suppress(FileExistsError):
                            os.link(aside, path)
                    aside.unlink()
        else:
            raise DataError(f"could not take the update lock {path}; try again")
    finally:
        tmp.unlink(missing_ok=True)
    try:
        yield
    finally:
        if _read_lock(path) == mine:
            path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- commit
def _write_manifest(home: Path, manifest: dict) -> None:
    """Replace ``manifest.json`` atomically (temp file + ``os.replace``): the commit point."""
    path = home / "manifest.json"
    tmp = home / f".manifest.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _verify_staged(staged: Mapping[str, Path], rows: Mapping[str, int]) -> None:
    """Load every staged table into DuckDB in one transaction and check its row count."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("BEGIN TRANSACTION")
        for table, path in staged.items():
            t = quote_identifier(table)
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet({quote_literal(str(path))})")
            n = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            if n != rows[table]:
                raise DataError(f"{table}: staged file has {n} rows, expected {rows[table]}")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        raise DataError(f"staged tables failed to load into DuckDB: {type(exc).__name__}") from None
    finally:
        con.close()


def _referenced(manifest: Mapping[str, Mapping]) -> set[Path]:
    """Every file path (relative to home) the manifest points at."""
    return {Path(t["file"]) for rec in manifest.values() for t in rec.get("tables", {}).values()}


def collect_garbage(home: Path) -> list[str]:
    """Remove what no manifest record references: version folders of killed or superseded
    updates, and leftovers of older layouts (``.staging``, manifest temp files). Run under the lock.
    Returns the paths removed (relative to ``home``)."""
    manifest = read_manifest(home)
    used = _referenced(manifest)
    used_dirs = {p.parent for p in used}
    removed = []
    for d in sorted(home.iterdir()) if home.is_dir() else []:
        if d.is_dir() and DATASET_RE.fullmatch(d.name):
            for v in sorted(d.iterdir()):
                rel = v.relative_to(home)
                if v.is_dir() and VERSION_RE.fullmatch(v.name) and rel not in used_dirs:
                    shutil.rmtree(v, ignore_errors=True)
                    removed.append(str(rel))
    for junk in [home / ".staging", *home.glob(".manifest.*.tmp"), *home.glob(f"{LOCK_NAME}.*.tmp")]:
        if junk.is_dir():
            shutil.rmtree(junk, ignore_errors=True)
        elif junk.exists():
            junk.unlink(missing_ok=True)
        else:
            continue
        removed.append(str(junk.relative_to(home)))
    return removed


def _new_version() -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"v{stamp}-{uuid.uuid4().hex[:8]}"


def commit_dataset(name: str, tables: Mapping[str, pl.DataFrame], record: Mapping[str, Any],
                   provenance: Mapping[str, Mapping[str, Any]], columns: Mapping[str, Mapping[str, str]],
                   *, home: Path | None = None) -> dict:
    """Write one dataset into the user data dir atomically; returns its manifest record.

    ``record`` holds the dataset's attribution (title, source, ...);
    ``provenance[table]`` its endpoint, query and retrieval time; ``columns[table]``
    the documented columns. Rows and SHA-256 are computed here. The files of the
    version this one replaces are removed after the commit.
    """
    if not DATASET_RE.fullmatch(name):
        raise DataError(f"dataset name {name!r} must be lower-case letters, digits and _")
    for table in tables:
        if not DATASET_RE.fullmatch(table):
            raise DataError(f"table name {table!r} must be lower-case letters, digits and _")
    home = Path(home or user_data_dir())
    with update_lock(home):
        collect_garbage(home)
        version = _new_version()
        folder = home / name / version
        folder.mkdir(parents=True)
        committed = False
        try:
            staged, rows, info = {}, {}, {}
            for table, df in tables.items():
                path = folder / f"{table}.parquet"
                df.write_parquet(path, compression="zstd")
                staged[table], rows[table] = path, df.height
                info[table] = {
                    "rows": df.height, "file": f"{name}/{version}/{table}.parquet",
                    "columns": dict(columns.get(table, {c: "" for c in df.columns})),
                    "sha256": sha256_file(path), **dict(provenance.get(table, {})),
                }
            _verify_staged(staged, rows)
            rec = {**dict(record), "name": name, "tables": info}
            manifest = read_manifest(home)
            old = manifest.get(name)
            manifest[name] = rec
            _write_manifest(home, manifest)
            committed = True
        finally:
            if not committed:
                shutil.rmtree(folder, ignore_errors=True)
                with contextlib.suppress(OSError):
                    (home / name).rmdir()            # only if this was the dataset's first version
        if old:                                      # the superseded version's files
            for f in _referenced({name: old}) - _referenced(manifest):
                with contextlib.suppress(OSError):
                    (home / f).unlink()
                with contextlib.suppress(OSError):
                    if (home / f).parent != home / name:
                        (home / f).parent.rmdir()
    refresh()
    return rec


@dataclass(frozen=True)
class UpdateResult:
    """What an update wrote: dataset, tables and rows, provenance, and (HTS) the Chapter 99 diff."""

    dataset: str
    path: Path
    record: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    chapter99_diff: pl.DataFrame | None = None

    @property
    def rows(self) -> dict[str, int]:
        return {t: v["rows"] for t, v in self.record["tables"].items()}

    def summary(self) -> str:
        """A few lines for people: what was written, from where, and what to review."""
        lines = [f"updated {self.dataset} in {self.path}"]
        for t, v in self.record["tables"].items():
            lines.append(f"  {t}: {v['rows']:,} rows (sha256 {v['sha256'][:12]}…)")
        lines.append(f"  source: {self.record.get('endpoint', self.record.get('source', ''))}")
        lines += [f"  note: {n}" for n in self.notes]
        if self.chapter99_diff is not None:
            counts = self.chapter99_diff.group_by("status").len().sort("status").rows()
            lines.append("  chapter 99 vs " + str(self.record.get("baseline") or "nothing") + ": "
                         + (", ".join(f"{n} {s}" for s, n in counts) or "no changes"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"UpdateResult({self.dataset!r}, rows={self.rows})"


__all__ = ["commit_dataset", "update_lock", "collect_garbage", "sha256_file", "UpdateResult"]
