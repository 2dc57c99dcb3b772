"""Queries to, and parsing of, the Census Bureau's International Trade API.

The Monthly International Trade datasets (``/data/timeseries/intltrade/
{imports,exports}/hs``) answer a query with a JSON array of arrays: a header
row of variable names, then one row per record, every value a string. We ask
for HS10 × country values of one month at a time and split each month into ten
pages by the first digit of the commodity code (``I_COMMODITY=0*`` ...
``9*``), which keeps each answer small and a year within the API's 500
keyless calls a day. A ``204 No Content`` answer means "no data" — for a
whole month, "not published yet".

Variables (Census, *Guide to Using U.S. International Trade Datasets in the
Census API*): imports ``GEN_VAL_MO`` (general imports, customs value),
``CON_VAL_MO`` (imports for consumption, customs value), ``CAL_DUT_MO``
(calculated duties); exports ``ALL_VAL_MO`` (total exports, FAS value).
``CTY_CODE`` is the Census Schedule C code; codes below 1000 and codes with
``X`` are country groupings (e.g. 0003 European Union), not countries.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import polars as pl

from ..errors import DataError

DEFAULT_BASE = "https://api.census.gov/data/timeseries/intltrade"
PAGE_PREFIXES = tuple("0123456789")


@dataclass(frozen=True)
class Flow:
    """One trade flow of the API: endpoint, variables asked for, output columns."""

    name: str           # "imports" / "exports"
    table: str          # output table name
    commodity: str      # I_COMMODITY / E_COMMODITY
    values: tuple[tuple[str, str], ...]  # (API variable, output column)
    title: str


IMPORTS = Flow(
    "imports", "imports_hs10", "I_COMMODITY",
    (("GEN_VAL_MO", "general_value_usd"), ("CON_VAL_MO", "customs_value_usd"), ("CAL_DUT_MO", "calculated_duties_usd")),
    "US imports by HS10 and country of origin, monthly",
)
EXPORTS = Flow(
    "exports", "exports_hs10", "E_COMMODITY",
    (("ALL_VAL_MO", "value_usd"),),
    "US exports by Schedule B 10-digit code and country of destination, monthly",
)
FLOWS = {"imports": IMPORTS, "exports": EXPORTS}

KEY_COLUMNS = {
    "year": "calendar year",
    "month": "month (1-12)",
    "cty_code": "Census Schedule C country code (4 characters)",
    "cty_name": "Census country name",
    "is_aggregate": "code is a country grouping (e.g. 0003 European Union), not a country: drop when summing",
    "hs10": "10-digit commodity code (HTS for imports, Schedule B for exports), zero-padded string",
}
VALUE_DOCS = {
    "general_value_usd": "general imports, customs value, USD (GEN_VAL_MO)",
    "customs_value_usd": "imports for consumption, customs value, USD (CON_VAL_MO)",
    "calculated_duties_usd": "calculated duties on imports for consumption, USD (CAL_DUT_MO)",
    "value_usd": "total exports, FAS value, USD (ALL_VAL_MO)",
}


def table_columns(flow: Flow) -> dict[str, str]:
    """Documented columns of a flow's output table."""
    return {**KEY_COLUMNS, **{col: VALUE_DOCS[col] for _, col in flow.values}}


@dataclass(frozen=True)
class Page:
    """One request: a flow, a month and a commodity-code prefix."""

    flow: Flow
    year: int
    month: int
    prefix: str

    @property
    def time(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def params(self) -> list[tuple[str, str]]:
        get = ["CTY_CODE", "CTY_NAME", self.flow.commodity, *(v for v, _ in self.flow.values)]
        return [("get", ",".join(get)), ("COMM_LVL", "HS10"), ("time", self.time),
                (self.flow.commodity, f"{self.prefix}*")]

    def url(self, base: str = DEFAULT_BASE, api_key: str | None = None) -> str:
        params = self.params() + ([("key", api_key)] if api_key else [])
        return f"{base.rstrip('/')}/{self.flow.name}/hs?" + urllib.parse.urlencode(params, safe=",*")


def pages(flow: Flow, year: int, months: Sequence[int], prefixes: Sequence[str] = PAGE_PREFIXES) -> list[Page]:
    """All requests for a flow, year and months, in order."""
    return [Page(flow, year, m, p) for m in months for p in prefixes]


def parse_months(spec: str | Iterable[int] | None) -> tuple[int, ...]:
    """'1-6', '1,2,12', [3, 4] or None (all) -> sorted months.

    >>> parse_months("1-3,12")
    (1, 2, 3, 12)
    """
    if spec is None:
        return tuple(range(1, 13))
    if isinstance(spec, str):
        out: set[int] = set()
        for part in filter(None, (p.strip() for p in spec.split(","))):
            m = re.fullmatch(r"(\d{1,2})(?:\s*-\s*(\d{1,2}))?", part)
            if not m:
                raise DataError(f"--months: cannot read {part!r}; use e.g. 1-6 or 1,2,12")
            a, b = int(m.group(1)), int(m.group(2) or m.group(1))
            out.update(range(a, b + 1))
        months = tuple(sorted(out))
    else:
        months = tuple(sorted({int(x) for x in spec}))
    if not months or any(not 1 <= m <= 12 for m in months):
        raise DataError(f"--months: months must lie in 1..12, got {spec!r}")
    return months


def _is_aggregate(code: str) -> bool:
    return not code.isdigit() or int(code) < 1000


def parse_page(payload: Any, page: Page, *, source: str = "api.census.gov") -> pl.DataFrame:
    """Validate one API answer (array of arrays with a header row) into a tidy frame.

    Raises :class:`DataError` on any unexpected shape: not a list of lists, a
    missing variable, a row of the wrong length, a commodity code that is not
    10 digits, a value that is not an integer or is negative, or a row of another month.
    """
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DataError(f"{source}: answer to {page.flow.name} {page.time} is not JSON") from None
    where = f"{source} {page.flow.name} {page.time} {page.flow.commodity}={page.prefix}*"
    if not isinstance(payload, list) or not payload or not all(isinstance(r, list) for r in payload):
        raise DataError(f"{where}: unexpected shape: expected a JSON array of arrays with a header row")
    header = payload[0]
    if not all(isinstance(h, str) for h in header):
        raise DataError(f"{where}: unexpected shape: first row is not a header of variable names")
    pos: dict[str, int] = {}
    for i, h in enumerate(header):
        pos.setdefault(h, i)
    need = ["CTY_CODE", "CTY_NAME", page.flow.commodity, *(v for v, _ in page.flow.values)]
    missing = [v for v in need if v not in pos]
    if missing:
        raise DataError(f"{where}: unexpected shape: header lacks {', '.join(missing)} (API schema changed?)")
    cols: dict[str, list] = {"cty_code": [], "cty_name": [], "hs10": [], **{c: [] for _, c in page.flow.values}}
    for k, row in enumerate(payload[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{where}: row {k} has {len(row)} fields, header has {len(header)} (truncated?)")
        if "time" in pos and row[pos["time"]] not in (page.time, None):
            raise DataError(f"{where}: row {k} is for time {row[pos['time']]!r}, asked for {page.time}")
        code = str(row[pos[page.flow.commodity]] or "")
        if not re.fullmatch(r"\d{10}", code):
            raise DataError(f"{where}: row {k}: commodity code {code!r} is not 10 digits")
        cols["hs10"].append(code)
        cols["cty_code"].append(str(row[pos["CTY_CODE"]] or "").strip())
        cols["cty_name"].append(str(row[pos["CTY_NAME"]] or "").strip())
        for var, col in page.flow.values:
            v = row[pos[var]]
            try:
                val = int(v) if v not in (None, "") else 0
            except (TypeError, ValueError):
                raise DataError(f"{where}: row {k}: {var} value {v!r} is not an integer") from None
            if val < 0:   # trade values and duties are never negative: a malformed answer
                raise DataError(f"{where}: row {k}: {var} value {v!r} is negative (country {cols['cty_code'][-1]!r}, "
                                f"code {code!r}); nothing was written")
            cols[col].append(val)
    df = pl.DataFrame(cols, schema={"cty_code": pl.Utf8, "cty_name": pl.Utf8, "hs10": pl.Utf8,
                                    **{c: pl.Int64 for _, c in page.flow.values}})
    return df.with_columns(
        pl.lit(page.year, dtype=pl.Int16).alias("year"),
        pl.lit(page.month, dtype=pl.Int8).alias("month"),
        pl.col("cty_code").map_elements(_is_aggregate, return_dtype=pl.Boolean).alias("is_aggregate"),
    ).select(list(KEY_COLUMNS) + [c for _, c in page.flow.values])


def combine(frames: Sequence[pl.DataFrame], flow: Flow) -> pl.DataFrame:
    """Concatenate pages; a duplicate (month, country, code) means overlapping pages."""
    schema = {"year": pl.Int16, "month": pl.Int8, "cty_code": pl.Utf8, "cty_name": pl.Utf8,
              "is_aggregate": pl.Boolean, "hs10": pl.Utf8, **{c: pl.Int64 for _, c in flow.values}}
    df = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    dup = df.select(["month", "cty_code", "hs10"]).is_duplicated()
    if dup.any():
        r = df.filter(dup).row(0, named=True)
        raise DataError(f"{flow.name}: duplicate record month {r['month']}, country {r['cty_code']!r}, code {r['hs10']!r}")
    return df.sort(["month", "cty_code", "hs10"])


__all__ = ["DEFAULT_BASE", "Flow", "IMPORTS", "EXPORTS", "FLOWS", "Page", "pages", "parse_months", "parse_page",
           "combine", "table_columns"]
