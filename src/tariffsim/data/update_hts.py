"""`tariffsim data update hts` and `tariffsim schedule diff`: USITC HTS releases and their Chapter 99.

:func:`update_hts` downloads a release (the current one from the HTS REST
service, a named one from the USITC archive, or a local export file), turns it
into tables (:mod:`tariffsim.data.hts`) and commits dataset ``hts_<release>``
with the Chapter 99 diff against the latest earlier update (else the bundled
schedule). :func:`schedule_diff` reads those diffs back, offline.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import polars as pl

from ..errors import DataError
from . import hts as _hts
from .catalog import bundled_manifest, read_table, user_data_dir
from .catalog import manifest as catalog_manifest
from .update_commit import UpdateResult, commit_dataset
from .update_http import Progress, RetryPolicy, Transport, _host, _now, _report, fetch_json, redact, urllib_transport

HTS_BASE = "https://hts.usitc.gov/reststop"
HTS_BASE_ENV = "TARIFFSIM_HTS_URL"
# The export answers one range of headings per call; these ranges (chapters 1-24,
# 25-49, 50-74, 75-97, 98-99) keep each answer to a few MB.
HTS_RANGES = (("0100", "2499"), ("2500", "4999"), ("5000", "7499"), ("7500", "9799"), ("9800", "9999"))


@dataclass(frozen=True)
class ScheduleDiff:
    """Chapter 99 headings a release adds, changes or removes relative to a baseline."""

    release: str
    baseline: str
    table: pl.DataFrame
    partner: str | None = None
    note: str = ""

    def summary(self) -> str:
        who = f" for {self.partner}" if self.partner else ""
        counts = {s: n for s, n in self.table.group_by("status").len().rows()}
        head = (f"Chapter 99: {self.release} vs {self.baseline}{who}: "
                f"{counts.get('new', 0)} new, {counts.get('changed', 0)} changed, {counts.get('removed', 0)} removed")
        return head + (f"\n({self.note})" if self.note else "")

    def __repr__(self) -> str:
        return f"ScheduleDiff({self.release!r} vs {self.baseline!r}, {self.table.height} headings)"


def hts_dataset_name(release: str) -> str:
    """Dataset name of a release, e.g. '2026HTSRev3' -> 'hts_2026htsrev3'."""
    slug = re.sub(r"[^a-z0-9]+", "_", release.lower()).strip("_")
    if not slug:
        raise DataError(f"release name {release!r} is empty")
    return f"hts_{slug}"


def archive_json_url(release: str) -> str:
    """USITC archive URL of a named release's JSON file (e.g. 2025HTSRev19, 2026HTSBasic).

    The archive names its files ``hts_<year>_<basic|revision_N>_json.json``;
    USITC has not always kept to this pattern, so ``--source`` can name the file.
    """
    m = re.fullmatch(r"(\d{4})HTS(?:Basic|Rev(\d+))", release, flags=re.I)
    if not m:
        raise DataError(f"release {release!r}: expected a name like 2026HTSBasic or 2025HTSRev19, or 'current'")
    edition = "basic" if m.group(2) is None else f"revision_{int(m.group(2))}"
    return f"https://www.usitc.gov/sites/default/files/tata/hts/hts_{m.group(1)}_{edition}_json.json"


def _release_name(payload: Any) -> str | None:
    if isinstance(payload, str):
        return payload.strip() or None
    if isinstance(payload, dict):
        for k in ("name", "releaseName", "release", "title"):
            if isinstance(payload.get(k), str) and payload[k].strip():
                return payload[k].strip()
    if isinstance(payload, list) and payload:
        return _release_name(payload[0])
    return None


def _hts_rows(release: str, source: str | None, base: str, transport: Transport, retry: RetryPolicy,
              sleep: Callable[[float], None], progress: Progress | None) -> tuple[str, list[dict], str, str]:
    """Rows of a release: (release name, rows, endpoint, query)."""
    if source and not re.match(r"https?://", source):
        path = Path(source).expanduser()
        if not path.is_file():
            raise DataError(f"--source {source}: no such file")
        data = path.read_bytes()
        if path.suffix == ".gz":
            import gzip

            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                raise DataError(f"--source {source}: damaged gzip file") from None
        _report(progress, 1, 1, f"hts {path.name}")
        return release, _hts.parse_export(data, source=path.name), str(path.resolve()), "local file"
    if source or release.lower() != "current":
        url = source or archive_json_url(release)
        try:
            payload = fetch_json(url, transport=transport, retry=retry, sleep=sleep, what=f"HTS release {release}")
        except DataError as exc:
            if source:
                raise
            raise DataError(f"{exc}; download the release's JSON from the USITC HTS archive and pass --source FILE") from None
        _report(progress, 1, 1, f"hts {release}")
        if payload is None:
            raise DataError(f"{_host(url)}: empty answer for HTS release {release}")
        return release, _hts.parse_export(payload, source=_host(url)), redact(url), "full JSON export"
    meta = fetch_json(f"{base}/currentRelease", transport=transport, retry=retry, sleep=sleep, what="currentRelease")
    name = _release_name(meta)
    if not name:
        raise DataError(f"{_host(base)}: unexpected answer to currentRelease (no release name)")
    rows: list[dict] = []
    for k, (lo, hi) in enumerate(HTS_RANGES):
        url = f"{base}/exportList?from={lo}&to={hi}&format=JSON&styles=false"
        payload = fetch_json(url, transport=transport, retry=retry, sleep=sleep, what=f"exportList {lo}-{hi}")
        _report(progress, k + 1, len(HTS_RANGES), f"hts {name} {lo}-{hi}")
        if payload is None:
            raise DataError(f"{_host(base)}: empty answer for headings {lo}-{hi} of {name}")
        rows += _hts.parse_export(payload, source=f"{_host(base)} exportList {lo}-{hi}")
    query = "from/to=" + ",".join(f"{a}-{b}" for a, b in HTS_RANGES) + "&format=JSON&styles=false"
    return name, rows, f"{base}/exportList", query


def _hts_datasets(manifest: Mapping[str, Mapping]) -> list[tuple[str, Mapping]]:
    """Updated HTS releases in the user dir, oldest first."""
    recs = [(n, r) for n, r in manifest.items() if r.get("kind") == "hts_release"]
    return sorted(recs, key=lambda nr: nr[1].get("retrieved_at", ""))


def latest_hts_dataset() -> str | None:
    """Name of the newest HTS release brought in by ``data update hts`` (None if none).

    The MFN layer should read ``mfn_hs8`` from this dataset when present, else
    the bundled schedule.
    """
    recs = _hts_datasets(catalog_manifest())
    return recs[-1][0] if recs else None


def _bundled_chapter99() -> tuple[str, pl.DataFrame] | None:
    """Chapter 99 headings in bundled schedule data, if any table has them."""
    for name, rec in sorted(bundled_manifest().items()):
        if not (name.startswith("hts") or "tariff_actions" in name):
            continue
        for table in rec.get("tables", {}):
            path = Path(rec["_root"]) / rec["tables"][table]["file"]
            if not path.exists():
                continue
            try:
                df = pl.read_parquet(path)
            except Exception:  # noqa: BLE001 - any unreadable table just isn't a baseline
                continue
            ch = _hts.chapter99_from_table(df)
            if ch is not None and ch.height:
                return f"{name}.{table} (bundled)", ch
    return None


def _baseline(exclude_release: str | None) -> tuple[str, pl.DataFrame | None, str]:
    """The current Chapter 99 to diff against: (label, table or None, note)."""
    for name, rec in reversed(_hts_datasets(catalog_manifest())):
        if rec.get("release") == exclude_release or "chapter99" not in rec.get("tables", {}):
            continue
        return name, read_table(name, "chapter99"), ""
    bundled = _bundled_chapter99()
    if bundled is not None:
        label, ch = bundled
        lacking = [f for f in ("description", "general") if f not in _hts.known_fields(ch)]
        note = (f"baseline {label} has Chapter 99 codes but no {' or '.join(lacking)}: compared "
                f"{', '.join(_hts.known_fields(ch)) or 'presence'} only") if lacking else ""
        return label, ch, note
    return ("none", None, "no earlier schedule with Chapter 99 headings (bundled data has none and no release was "
            "updated before): every heading is listed as new")


def update_hts(release: str = "current", *, source: str | None = None, base_url: str | None = None,
               transport: Transport | None = None, retry: RetryPolicy = RetryPolicy(),
               sleep: Callable[[float], None] = time.sleep, progress: Progress | None = None) -> UpdateResult:
    """Download a USITC HTS release into the catalog and diff its Chapter 99 against the current one.

    ``release="current"`` asks the HTS REST service for the current release
    (``/currentRelease``, then ``/exportList`` in :data:`HTS_RANGES`); a named
    release (``2025HTSRev19``) is read from the USITC archive, or from
    ``source`` (a URL or a local ``.json``/``.json.gz`` file of the export).

    Writes dataset ``hts_<release>`` with tables ``mfn_hs8``, ``lines_hs10``,
    ``chapter99`` and ``chapter99_diff`` (new/changed/removed headings against
    the latest earlier update, else the bundled schedule).
    """
    base = (base_url or os.environ.get(HTS_BASE_ENV) or HTS_BASE).rstrip("/")
    if source is None and release.lower() != "current":
        archive_json_url(release)  # validate the name before any network use
    transport = transport or urllib_transport
    name, rows, endpoint, query = _hts_rows(release, source, base, transport, retry, sleep, progress)
    if name.lower() == "current":
        name = f"local-{_dt.date.today().isoformat()}"
    tables = _hts.tables_from_export(rows)
    label, base_ch99, note = _baseline(exclude_release=name)
    empty = pl.DataFrame(schema={c: pl.Utf8 for c in _hts.CH99_COLUMNS})
    diff = _hts.chapter99_diff(base_ch99 if base_ch99 is not None else empty, tables["chapter99"])
    tables["chapter99_diff"] = diff
    retrieved = _now()
    prov = {t: {"endpoint": endpoint, "query": query, "retrieved_at": retrieved} for t in tables}
    prov["chapter99_diff"] = {"endpoint": "derived", "query": f"chapter99 of {name} vs {label}", "retrieved_at": retrieved}
    cols = {"mfn_hs8": _hts.MFN_COLUMNS, "lines_hs10": _hts.LINES_COLUMNS, "chapter99": _hts.CH99_COLUMNS,
            "chapter99_diff": _hts.DIFF_COLUMNS}
    record = {
        "title": f"US Harmonized Tariff Schedule, release {name} (USITC JSON export)",
        "kind": "hts_release", "release": name, "year": name[:4] if name[:4].isdigit() else "",
        "source": "USITC Harmonized Tariff Schedule, JSON export", "publisher": "US International Trade Commission",
        "license": "Public domain (US Government work)", "units": "rates as printed; adval_rate fractions",
        "citation": f"USITC, Harmonized Tariff Schedule of the United States, {name}, retrieved {retrieved[:10]}.",
        "notes": note or f"Chapter 99 diffed against {label}",
        "endpoint": endpoint, "retrieved_at": retrieved, "updated_by": "tariffsim data update hts",
        "baseline": label, "baseline_note": note,
    }
    dname = hts_dataset_name(name)
    home = user_data_dir()
    rec = commit_dataset(dname, tables, record, prov, cols, home=home)
    return UpdateResult(dname, home / dname, rec, (note,) if note else (), diff)


# --------------------------------------------------------------------------- schedule diff (offline)

def _partner_name(iso3: str) -> str | None:
    """Country name of an ISO3 code from the bundled region tables (None if unknown)."""
    for ds in ("world_2023_aggregate", "world_io_7x44_2017"):
        try:
            regions = read_table(ds, "regions")
        except DataError:
            continue
        hit = regions.filter(pl.col("code") == iso3)
        if hit.height and "name" in hit.columns:
            return str(hit["name"][0])
    return None


def schedule_diff(release: str | None = None, *, against: str | None = None, partner: str | None = None) -> ScheduleDiff:
    """Chapter 99 changes of an updated release, optionally only those naming ``partner``.

    ``release`` is a release or dataset name (default: the latest update);
    ``against`` another updated release to compare with (default: the baseline
    chosen when the release was downloaded, stored as its ``chapter99_diff``).
    ``partner`` (ISO3, e.g. ``JPN``) keeps headings whose text names the country
    or its trade-agreement program (e.g. ``JP``, U.S.-Japan Trade Agreement).
    Reads local files only.
    """
    manifest = catalog_manifest()
    dname = _resolve_release(release, manifest)
    rec = manifest[dname]
    note = ""
    if against:
        other = _resolve_release(against, manifest)
        table = _hts.chapter99_diff(read_table(other, "chapter99"), read_table(dname, "chapter99"))
        base_label = other
    else:
        table = read_table(dname, "chapter99_diff")
        base_label = rec.get("baseline", "?")
        note = rec.get("baseline_note", "")
    who = None
    if partner:
        iso3 = partner.strip().upper()
        name = _partner_name(iso3)
        if name is None and iso3 not in _hts.ALIASES and iso3 not in _hts.PROGRAM_CODES:
            raise DataError(f"--partner {partner!r}: unknown ISO3 code")
        table = _hts.filter_partner(table, iso3, name)
        who = iso3
    return ScheduleDiff(rec.get("release", dname), base_label, table, who, note)


def _resolve_release(release: str | None, manifest: Mapping[str, Mapping]) -> str:
    recs = [(n, r) for n, r in manifest.items() if r.get("kind") == "hts_release"]
    if not recs:
        raise DataError("no HTS release has been updated yet; run: tariffsim data update hts")
    if release is None:
        return max(recs, key=lambda nr: nr[1].get("retrieved_at", ""))[0]
    for n, r in recs:
        if release in (n, r.get("release")) or hts_dataset_name(release) == n:
            return n
    raise DataError(f"release {release!r} not updated; known: {', '.join(sorted(r.get('release', n) for n, r in recs))}")


__all__ = ["update_hts", "schedule_diff", "ScheduleDiff", "latest_hts_dataset", "hts_dataset_name", "archive_json_url",
           "HTS_BASE", "HTS_RANGES"]
