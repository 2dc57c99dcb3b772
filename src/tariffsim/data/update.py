"""Bring data up to date from official releases, with provenance, atomically.

Where each part lives:

* :mod:`~tariffsim.data.update_census` -- ``tariffsim data update census``: US
  imports (and exports) by HS10 x country from the Census Bureau's
  International Trade API (queries and parsing in :mod:`tariffsim.data.census`),
  checked against the release already in the catalog;
* :mod:`~tariffsim.data.update_hts` -- ``tariffsim data update hts`` and
  ``tariffsim schedule diff``: a USITC Harmonized Tariff Schedule release (its
  JSON export, parsed in :mod:`tariffsim.data.hts`) and its Chapter 99 diff;
* :mod:`~tariffsim.data.update_http` -- the injectable HTTP transport, retries
  with backoff, and the cache of answers;
* :mod:`~tariffsim.data.update_commit` -- writing a dataset into the user
  catalog with one commit point (the ``manifest.json`` rename), and the lock
  (PID-stamped, stale locks taken over) that keeps updates one at a time;
* this module -- :func:`data_status` (what is bundled, what was updated when,
  and whether the files still match their checksums), and the names above in
  one place for ``tariffsim.data.update``.

Nothing here touches the network unless :func:`update_census` or
:func:`update_hts` is called (tariffsim is offline by default);
:func:`data_status` and :func:`schedule_diff` read only local files.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .catalog import bundled_manifest, read_manifest, user_data_dir
from .catalog import manifest as catalog_manifest
from .update_census import census_dataset_name, update_census
from .update_commit import UpdateResult, commit_dataset, sha256_file
from .update_hts import (
    ScheduleDiff, archive_json_url, hts_dataset_name, latest_hts_dataset, schedule_diff, update_hts,
)
from .update_http import RetryPolicy, Response, Transport, fetch_json, get, redact, urllib_transport


def data_status(*, verify: bool = True) -> pl.DataFrame:
    """What is bundled, what was updated when and from where (reads local files only).

    Columns: ``name, origin`` (bundled / updated / updated (overrides bundled)),
    ``kind, release_or_year, retrieved_at, source, tables, rows, integrity``
    (``ok``, ``modified`` when a file's SHA-256 differs from its manifest, or
    ``missing``; ``-`` for bundled data, which carries no checksums).
    """
    bundled = bundled_manifest()
    user = read_manifest(user_data_dir())
    rows = []
    for name, rec in sorted(catalog_manifest().items()):
        in_user = name in user
        origin = ("updated (overrides bundled)" if name in bundled else "updated") if in_user else "bundled"
        integrity = "-"
        if in_user and verify:
            integrity = "ok"
            for t in rec["tables"].values():
                path = Path(rec["_root"]) / t["file"]
                if not path.exists():
                    integrity = "missing"
                    break
                if t.get("sha256") and sha256_file(path) != t["sha256"]:
                    integrity = "modified"
        rows.append({
            "name": name, "origin": origin, "kind": rec.get("kind", ""),
            "release_or_year": str(rec.get("release") or rec.get("year") or ""),
            "retrieved_at": rec.get("retrieved_at", ""), "source": rec.get("endpoint") or rec.get("source", ""),
            "tables": len(rec["tables"]), "rows": int(sum(t.get("rows", 0) for t in rec["tables"].values())),
            "integrity": integrity,
        })
    return pl.DataFrame(rows)



__all__ = [
    "Response", "Transport", "RetryPolicy", "urllib_transport", "get", "fetch_json", "redact",
    "commit_dataset", "UpdateResult", "ScheduleDiff", "update_census", "update_hts", "data_status",
    "schedule_diff", "latest_hts_dataset", "census_dataset_name", "hts_dataset_name", "archive_json_url",
    "sha256_file",
]
