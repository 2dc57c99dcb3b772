"""Bring data up to date from official releases, with provenance, atomically.

Two sources:

* :func:`update_census` — US imports (and exports) by HS10 × country from the
  Census Bureau's International Trade API (see :mod:`tariffsim.data.census`);
* :func:`update_hts` — a USITC Harmonized Tariff Schedule release (its JSON
  export): MFN rates for the MFN layer and the release's Chapter 99, diffed
  against the current schedule (see :mod:`tariffsim.data.hts`).

Nothing here touches the network unless one of these two functions is called
(tariffsim is offline by default); :func:`data_status` and
:func:`schedule_diff` read only local files.

Each update is written into the user data directory (``$TARIFFSIM_HOME``,
see :func:`tariffsim.data.catalog.user_data_dir`) with the bundle's layout —
``<dataset>/<table>.parquet`` plus a ``manifest.json`` record carrying, per
table, the endpoint, query, time of retrieval, row count and SHA-256 — and so
is picked up by :func:`~tariffsim.data.catalog.read_table` and
:func:`~tariffsim.data.catalog.catalog`.

Never a half-written catalog: every page is downloaded and validated before
anything is written; tables are staged in a temporary folder, read back and
counted inside one DuckDB transaction, then swapped in, and the manifest —
the catalog's single source of truth — is replaced last with ``os.replace``.
Any failure rolls the folder swap back and leaves the old manifest in place.

The HTTP layer is injectable: every network call goes through a
:data:`Transport` (``transport(url, timeout) -> Response``); the default uses
``urllib``. Retries with exponential backoff cover rate limits (HTTP 429,
honouring ``Retry-After``), server errors (5xx) and truncated answers; every
other failure is a one-line :class:`~tariffsim.errors.DataError`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import http.client
import importlib
import json
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import duckdb
import polars as pl

from ..errors import DataError
from . import census as _census
from . import hts as _hts

# The package re-exports a *function* named ``catalog``; take the module itself.
_catalog = importlib.import_module(".catalog", __package__)

HTS_BASE = "https://hts.usitc.gov/reststop"
# The export answers one range of headings per call; these ranges (chapters 1-24,
# 25-49, 50-74, 75-97, 98-99) keep each answer to a few MB.
HTS_RANGES = (("0100", "2499"), ("2500", "4999"), ("5000", "7499"), ("7500", "9799"), ("9800", "9999"))
CENSUS_KEY_ENV = "CENSUS_API_KEY"
CENSUS_BASE_ENV = "TARIFFSIM_CENSUS_URL"
HTS_BASE_ENV = "TARIFFSIM_HTS_URL"
Progress = Callable[[int, int, str], None]


# =========================================================================== HTTP

@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, body and headers (names lower-cased)."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class Offline(Exception):
    """The host could not be reached (no network, DNS failure, refused)."""


class Truncated(Exception):
    """The connection closed before the whole answer arrived."""


Transport = Callable[[str, float], Response]


def urllib_transport(url: str, timeout: float) -> Response:
    """Default transport: one GET with ``urllib``; HTTP errors come back as a :class:`Response`."""
    from .. import __version__

    req = urllib.request.Request(url, headers={"User-Agent": f"tariffsim/{__version__}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - https/http URLs we build
            return Response(r.status, r.read(), {k.lower(): v for k, v in r.headers.items()})
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read()
        except Exception:  # noqa: BLE001 - body of an error page is best effort
            body = b""
        return Response(exc.code, body, {k.lower(): v for k, v in (exc.headers or {}).items()})
    except http.client.IncompleteRead as exc:
        raise Truncated(f"{len(exc.partial)} bytes received") from None
    except urllib.error.URLError as exc:
        raise Offline(str(getattr(exc, "reason", exc))) from None
    except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException, OSError) as exc:
        raise Offline(f"{type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, backoff base (s), cap on one wait (s), timeout (s)."""

    attempts: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0
    timeout: float = 120.0


def redact(url: str) -> str:
    """The URL with any API key hidden (never written to cache names, logs or manifests)."""
    return re.sub(r"([?&]key=)[^&]*", r"\1***", url)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _retry_after(resp: Response, default: float, cap: float) -> float:
    try:
        return min(cap, max(0.0, float(resp.headers.get("retry-after", default))))
    except ValueError:
        return min(cap, default)


def get(url: str, *, transport: Transport, retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep) -> Response:
    """GET with retries; returns a 200 or 204 answer or raises a one-line :class:`DataError`.

    Retried with exponential backoff: 429 (waiting ``Retry-After`` when given),
    5xx, a truncated body, and a dropped connection. A DNS failure or refused
    connection on the first try means "offline" and fails at once.
    """
    host, shown = _host(url), redact(url)
    last = ""
    for attempt in range(retry.attempts):
        wait = retry.backoff * 2 ** attempt
        try:
            resp = transport(url, retry.timeout)
        except Offline as exc:
            if attempt == 0 and _looks_offline(str(exc)):
                raise DataError(f"cannot reach {host} (offline?): {exc}") from None
            last = f"connection failed ({exc})"
        except Truncated as exc:
            last = f"truncated answer ({exc})"
        else:
            if resp.status in (200, 204):
                return resp
            if resp.status == 429:
                last = "rate limited (HTTP 429)"
                wait = _retry_after(resp, wait, retry.max_wait)
            elif resp.status >= 500:
                last = f"server error HTTP {resp.status}"
            else:
                raise DataError(f"{host} answered HTTP {resp.status} to {shown}: {_first_line(resp.body)}")
        if attempt + 1 < retry.attempts:
            sleep(min(wait, retry.max_wait))
    hint = f"; set {CENSUS_KEY_ENV} or try later" if "429" in last and "census" in host else "; try later"
    raise DataError(f"{host}: {last} after {retry.attempts} tries{hint}")


def _looks_offline(reason: str) -> bool:
    r = reason.lower()
    return any(s in r for s in ("name or service not known", "nodename nor servname", "temporary failure in name",
                                "getaddrinfo", "no address associated", "network is unreachable", "connection refused",
                                "no route to host"))


def _first_line(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    text = re.sub(r"<[^>]+>", " ", text) if text.startswith("<") else text
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "(empty body)")
    return line[:200]


def _decode_json(resp: Response, what: str, host: str) -> Any:
    """JSON of an answer; a body cut short is :class:`Truncated`, anything else a shape error."""
    text = resp.body.decode("utf-8", "replace").lstrip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if text[:1] in "[{" and text:
            raise Truncated(f"{what}: JSON ends early at {len(resp.body)} bytes") from None
        raise DataError(f"{host}: unexpected answer to {what}: not JSON ({_first_line(resp.body)})") from None


def fetch_json(url: str, *, transport: Transport, retry: RetryPolicy = RetryPolicy(),
               sleep: Callable[[float], None] = time.sleep, what: str = "request") -> Any | None:
    """GET and decode JSON, retrying truncated bodies; ``None`` for 204 No Content."""
    host = _host(url)
    for attempt in range(retry.attempts):
        resp = get(url, transport=transport, retry=retry, sleep=sleep)
        if resp.status == 204 or not resp.body.strip():
            return None
        try:
            return _decode_json(resp, what, host)
        except Truncated as exc:
            if attempt + 1 == retry.attempts:
                raise DataError(f"{host}: truncated answer to {what} after {retry.attempts} tries ({exc})") from None
            sleep(min(retry.backoff * 2 ** attempt, retry.max_wait))
    raise AssertionError("unreachable")  # pragma: no cover


# =========================================================================== cache

def _cache_path(home: Path, source: str, url: str) -> Path:
    digest = hashlib.sha256(redact(url).encode()).hexdigest()[:32]
    return home / "cache" / source / f"{digest}.json"


def _cached_page(home: Path, source: str, url: str, refresh: bool) -> tuple[bool, Any]:
    path = _cache_path(home, source, url)
    if refresh or not path.exists():
        return False, None
    try:
        return True, json.loads(path.read_text())["payload"]
    except (OSError, ValueError, KeyError):
        return False, None  # a damaged cache entry is simply fetched again


def _store_page(home: Path, source: str, url: str, payload: Any) -> None:
    path = _cache_path(home, source, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps({"url": redact(url), "retrieved_at": _now(), "payload": payload}))
    os.replace(tmp, path)


# =========================================================================== commit

def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def _lock(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".update.lock"
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise DataError(f"another update is running (lock {path}); delete the file if no update is running") from None
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def _write_manifest(home: Path, manifest: dict) -> None:
    """Replace ``manifest.json`` atomically (temp file + ``os.replace``)."""
    path = home / "manifest.json"
    tmp = home / f".manifest.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
    os.replace(tmp, path)


def _verify_staged(staged: Mapping[str, Path], rows: Mapping[str, int]) -> None:
    """Load every staged table into DuckDB in one transaction and check its row count."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("BEGIN TRANSACTION")
        for table, path in staged.items():
            p = str(path).replace("'", "''")
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_parquet(\'{p}\')')
            n = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if n != rows[table]:
                raise DataError(f"{table}: staged file has {n} rows, expected {rows[table]}")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        raise DataError(f"staged tables failed to load into DuckDB: {type(exc).__name__}") from None
    finally:
        con.close()


def commit_dataset(name: str, tables: Mapping[str, pl.DataFrame], record: Mapping[str, Any],
                   provenance: Mapping[str, Mapping[str, Any]], columns: Mapping[str, Mapping[str, str]],
                   *, home: Path | None = None) -> dict:
    """Write one dataset into the user data dir atomically; returns its manifest record.

    ``record`` holds the dataset's attribution (title, source, ...);
    ``provenance[table]`` its endpoint, query and retrieval time; ``columns[table]``
    the documented columns. Rows and SHA-256 are computed here.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise DataError(f"dataset name {name!r} must be lower-case letters, digits and _")
    home = Path(home or _catalog.user_data_dir())
    with _lock(home):
        staging = home / ".staging" / f"{name}-{uuid.uuid4().hex[:12]}"
        staging.mkdir(parents=True)
        old_aside = home / ".staging" / f"{name}-old-{uuid.uuid4().hex[:12]}"
        target = home / name
        swapped = False
        try:
            staged, rows, info = {}, {}, {}
            for table, df in tables.items():
                path = staging / f"{table}.parquet"
                df.write_parquet(path, compression="zstd")
                staged[table], rows[table] = path, df.height
                info[table] = {
                    "rows": df.height, "file": f"{name}/{table}.parquet",
                    "columns": dict(columns.get(table, {c: "" for c in df.columns})),
                    "sha256": sha256_file(path), **dict(provenance.get(table, {})),
                }
            _verify_staged(staged, rows)
            rec = {**dict(record), "name": name, "tables": info}
            manifest = _catalog._read_manifest(home)
            manifest[name] = rec
            if target.exists():
                os.replace(target, old_aside)
            os.replace(staging, target)
            swapped = True
            _write_manifest(home, manifest)
        except BaseException:
            if swapped:
                with contextlib.suppress(OSError):
                    os.replace(target, staging)
            if old_aside.exists() and not target.exists():
                os.replace(old_aside, target)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(old_aside, ignore_errors=True)
            with contextlib.suppress(OSError):
                (home / ".staging").rmdir()
    _catalog.refresh()
    return rec


# =========================================================================== results

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


def _report(progress: Progress | None, done: int, total: int, label: str) -> None:
    if progress is not None:
        progress(done, total, label)


# =========================================================================== census

def census_dataset_name(year: int) -> str:
    return f"us_trade_census_{int(year)}"


def update_census(year: int, *, months: str | Sequence[int] | None = None, exports: bool = True,
                  api_key: str | None = None, refresh: bool = False, base_url: str | None = None,
                  transport: Transport | None = None, retry: RetryPolicy = RetryPolicy(),
                  sleep: Callable[[float], None] = time.sleep, progress: Progress | None = None) -> UpdateResult:
    """Download US trade by HS10 × country for ``year`` from the Census API into the catalog.

    Writes dataset ``us_trade_census_<year>`` (tables ``imports_hs10`` and, with
    ``exports``, ``exports_hs10``). ``months`` is e.g. ``"1-6"`` (default: all
    published months of the year). The API key is optional (``$CENSUS_API_KEY``);
    answers are cached under ``$TARIFFSIM_HOME/cache/census`` (``refresh`` skips
    the cache). Nothing is written unless every page downloads and validates.
    """
    year = int(year)
    this_year = _dt.date.today().year
    if not 2010 <= year <= this_year:
        raise DataError(f"--year {year}: the Census monthly HS data cover 2010..{this_year}")
    explicit = months is not None
    month_list = _census.parse_months(months)
    api_key = api_key or os.environ.get(CENSUS_KEY_ENV) or None
    base = base_url or os.environ.get(CENSUS_BASE_ENV) or _census.DEFAULT_BASE
    transport = transport or urllib_transport
    home = _catalog.user_data_dir()
    flows = [_census.IMPORTS] + ([_census.EXPORTS] if exports else [])
    todo = [p for f in flows for p in _census.pages(f, year, month_list)]
    frames: dict[str, list[pl.DataFrame]] = {f.name: [] for f in flows}
    published: dict[str, set[int]] = {f.name: set() for f in flows}
    n_net = 0
    empty_pages: list[tuple[_census.Page, str]] = []
    for k, page in enumerate(todo):
        url = page.url(base, api_key)
        hit, payload = _cached_page(home, "census", url, refresh)
        if not hit:
            payload = fetch_json(url, transport=transport, retry=retry, sleep=sleep,
                                 what=f"{page.flow.name} {page.time} {page.flow.commodity}={page.prefix}*")
            n_net += 1
        _report(progress, k + 1, len(todo), f"census {page.flow.name} {page.time} {page.prefix}*")
        if payload is None:  # 204: no data for this page (or the month is not published)
            if not hit:
                empty_pages.append((page, url))
            continue
        df = _census.parse_page(payload, page, source=_host(base))
        if not hit:
            _store_page(home, "census", url, payload)
        frames[page.flow.name].append(df)
        published[page.flow.name].add(page.month)
    for page, url in empty_pages:  # an empty page of a published month is an answer worth keeping
        if page.month in published[page.flow.name]:
            _store_page(home, "census", url, None)
    got = published["imports"]
    if not got:
        raise DataError(f"Census has published no {year} data for months {_fmt_months(month_list)} yet")
    missing = [m for m in month_list if m not in got]
    notes = []
    if missing and explicit:
        raise DataError(f"Census has not published {year} month(s) {_fmt_months(missing)} yet; "
                        f"rerun with --months {_fmt_months([m for m in month_list if m in got])}")
    if missing:
        notes.append(f"months {_fmt_months(missing)} of {year} not published yet; loaded {_fmt_months(sorted(got))}")
    retrieved = _now()
    tables, prov, cols = {}, {}, {}
    for f in flows:
        df = _census.combine(frames[f.name], f)
        if f.name == "exports" and df.height == 0:
            notes.append("the exports endpoint returned no data; exports table not written")
            continue
        months_f = sorted(published[f.name])
        tables[f.table], cols[f.table] = df, _census.table_columns(f)
        q = _census.Page(f, year, months_f[0], "0").params()
        prov[f.table] = {
            "endpoint": f"{base.rstrip('/')}/{f.name}/hs",
            "query": "&".join(f"{k}={v}" for k, v in q if k not in ("time", f.commodity))
                     + f"&time={year}-{{{_fmt_months(months_f)}}}&{f.commodity}={{0..9}}*",
            "retrieved_at": retrieved,
            "months": months_f,
        }
    record = {
        "title": f"US trade by HS10 and country, {year} (Census International Trade API)",
        "kind": "trade_update", "year": str(year), "source": "US Census Bureau, International Trade API",
        "publisher": "US Census Bureau", "license": "Public domain (US Government work)",
        "units": "USD, nominal; monthly values",
        "citation": f"U.S. Census Bureau, Monthly International Trade data, {base.rstrip('/')}/{{imports,exports}}/hs, retrieved {retrieved[:10]}.",
        "notes": "; ".join(notes) or "complete for the months requested",
        "endpoint": f"{base.rstrip('/')}/imports/hs", "retrieved_at": retrieved, "updated_by": "tariffsim data update census",
        "months": sorted(got), "requests": len(todo), "requests_from_network": n_net,
    }
    name = census_dataset_name(year)
    rec = commit_dataset(name, tables, record, prov, cols, home=home)
    return UpdateResult(name, home / name, rec, tuple(notes))


def _fmt_months(ms: Sequence[int]) -> str:
    ms = sorted(ms)
    out, i = [], 0
    while i < len(ms):
        j = i
        while j + 1 < len(ms) and ms[j + 1] == ms[j] + 1:
            j += 1
        out.append(str(ms[i]) if i == j else f"{ms[i]}-{ms[j]}")
        i = j + 1
    return ",".join(out)


# =========================================================================== HTS

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
    recs = _hts_datasets(_catalog.manifest())
    return recs[-1][0] if recs else None


def _bundled_chapter99() -> tuple[str, pl.DataFrame] | None:
    """Chapter 99 headings in bundled schedule data, if any table has them."""
    for name, rec in sorted(_catalog._bundled_manifest().items()):
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
    for name, rec in reversed(_hts_datasets(_catalog.manifest())):
        if rec.get("release") == exclude_release or "chapter99" not in rec.get("tables", {}):
            continue
        return name, _catalog.read_table(name, "chapter99"), ""
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
    home = _catalog.user_data_dir()
    rec = commit_dataset(dname, tables, record, prov, cols, home=home)
    return UpdateResult(dname, home / dname, rec, (note,) if note else (), diff)


# =========================================================================== status / diff (offline)

def data_status(*, verify: bool = True) -> pl.DataFrame:
    """What is bundled, what was updated when and from where (reads local files only).

    Columns: ``name, origin`` (bundled / updated / updated (overrides bundled)),
    ``kind, release_or_year, retrieved_at, source, tables, rows, integrity``
    (``ok``, ``modified`` when a file's SHA-256 differs from its manifest, or
    ``missing``; ``-`` for bundled data, which carries no checksums).
    """
    bundled = _catalog._bundled_manifest()
    user = _catalog._read_manifest(_catalog.user_data_dir())
    rows = []
    for name, rec in sorted(_catalog.manifest().items()):
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
            "tables": len(rec["tables"]), "rows": int(sum(t["rows"] for t in rec["tables"].values())),
            "integrity": integrity,
        })
    return pl.DataFrame(rows)


def _partner_name(iso3: str) -> str | None:
    """Country name of an ISO3 code from the bundled region tables (None if unknown)."""
    for ds in ("world_2023_aggregate", "world_io_7x44_2017"):
        try:
            regions = _catalog.read_table(ds, "regions")
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
    manifest = _catalog.manifest()
    dname = _resolve_release(release, manifest)
    rec = manifest[dname]
    note = ""
    if against:
        other = _resolve_release(against, manifest)
        table = _hts.chapter99_diff(_catalog.read_table(other, "chapter99"), _catalog.read_table(dname, "chapter99"))
        base_label = other
    else:
        table = _catalog.read_table(dname, "chapter99_diff")
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


__all__ = [
    "Response", "Transport", "RetryPolicy", "urllib_transport", "get", "fetch_json", "redact",
    "commit_dataset", "UpdateResult", "ScheduleDiff", "update_census", "update_hts", "data_status",
    "schedule_diff", "latest_hts_dataset", "census_dataset_name", "hts_dataset_name", "archive_json_url",
]
