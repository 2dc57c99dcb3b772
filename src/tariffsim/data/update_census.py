"""`tariffsim data update census`: US trade by HS10 x country from the Census International Trade API.

:func:`update_census` asks the API for every page of a year (one month and
commodity-code prefix per request, see :mod:`tariffsim.data.census`), caches
each answer, validates every page, checks the values against the release
already in the catalog (:func:`check_against_release`), and only then commits
dataset ``us_trade_census_<year>`` (:func:`~tariffsim.data.update_commit.commit_dataset`).
A malformed answer -- negative values, a month whose total jumps by more than
:data:`MAX_REVISION_RATIO` against the previous release -- is refused with a
one-line :class:`~tariffsim.errors.DataError` and the catalog is left as it was.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from typing import Callable, Sequence

import polars as pl

from ..errors import DataError
from . import census as _census
from .catalog import read_manifest, read_table, user_data_dir
from .update_commit import UpdateResult, commit_dataset
from .update_http import (
    CENSUS_KEY_ENV, Progress, RetryPolicy, Transport, _cache_path, _cached_page, _host, _now, _report, _store_page, fetch_json,
    urllib_transport,
)

CENSUS_BASE_ENV = "TARIFFSIM_CENSUS_URL"
#: Largest factor by which a month's total may move against the release already in the
#: catalog. Census revisions move monthly totals by a few percent (annual revision,
#: FT-900 notes); a factor of 2 either way is a malformed answer, not a revision.
MAX_REVISION_RATIO = 2.0


def _monthly_totals(frame: pl.DataFrame, cols: Sequence[str]) -> dict[int, dict[str, float]]:
    """Sum of each value column by month over countries (groupings such as 0003 EU excluded)."""
    g = frame.filter(~pl.col("is_aggregate")).group_by("month").agg([pl.col(c).sum() for c in cols])
    return {int(r["month"]): r for r in g.rows(named=True)}


def check_against_release(df: pl.DataFrame, dataset: str, table: str) -> None:
    """Refuse a table whose monthly totals are implausible against the release in the catalog.

    Values must be non-negative (checked per row when parsing, and again here), and
    for every month present in both the new table and the release already committed
    in the user catalog, the total of each value column over countries (groupings
    excluded) must lie within a factor :data:`MAX_REVISION_RATIO` of the old total.
    """
    value_cols = [c for c in df.columns if c.endswith("_usd")]
    for col in value_cols:
        neg = df.filter(pl.col(col) < 0)
        if neg.height:
            r = neg.row(0, named=True)
            raise DataError(f"{dataset}.{table}: negative {col} {r[col]} for country {r['cty_code']!r}, "
                            f"code {r['hs10']!r}, month {r['month']}; refused, catalog unchanged")
    rec = read_manifest(user_data_dir()).get(dataset)
    if not rec or table not in rec.get("tables", {}):
        return
    try:
        old = read_table(dataset, table)
    except DataError:
        return                                      # an unreadable old release is replaced, not compared
    cols = [c for c in value_cols if c in old.columns]
    new_t, old_t = _monthly_totals(df, cols), _monthly_totals(old, cols)
    for month in sorted(set(new_t) & set(old_t)):
        for col in cols:
            a, b = float(new_t[month][col]), float(old_t[month][col])
            if b > 0 and not (b / MAX_REVISION_RATIO <= a <= b * MAX_REVISION_RATIO):
                raise DataError(f"{dataset}.{table}: month {month} {col} totals {a:,.0f} USD against {b:,.0f} in the "
                                f"release already in the catalog (more than a factor {MAX_REVISION_RATIO:g}); "
                                "refused as a malformed answer, catalog unchanged")


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
    home = user_data_dir()
    flows = [_census.IMPORTS] + ([_census.EXPORTS] if exports else [])
    todo = [p for f in flows for p in _census.pages(f, year, month_list)]
    frames: dict[str, list[pl.DataFrame]] = {f.name: [] for f in flows}
    published: dict[str, set[int]] = {f.name: set() for f in flows}
    n_net = 0
    empty_pages: list[tuple[_census.Page, str]] = []
    fetched: list[str] = []          # answers cached by this run (dropped again if the values are refused)
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
            fetched.append(url)
        frames[page.flow.name].append(df)
        published[page.flow.name].add(page.month)
    for page, url in empty_pages:  # an empty page of a published month is an answer worth keeping
        if page.month in published[page.flow.name]:
            _store_page(home, "census", url, None)
            fetched.append(url)
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
    try:
        for table, df in tables.items():
            check_against_release(df, name, table)
    except DataError:
        for url in fetched:          # a refused answer must not be replayed from the cache
            _cache_path(home, "census", url).unlink(missing_ok=True)
        raise
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



__all__ = ["update_census", "census_dataset_name", "check_against_release", "MAX_REVISION_RATIO"]
