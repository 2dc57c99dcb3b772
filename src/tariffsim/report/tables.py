"""HTML tables of the report: a polars DataFrame as an escaped ``<table>`` (numbers right-aligned)."""

from __future__ import annotations

import math
from html import escape


#: column-name suffixes and the unit a reader sees in the header
_UNITS = (("_usd_bn", " (USD bn per year)"), ("_usd_mn", " (USD mn per year)"), ("_pct", " (%)"), ("_pp", " (pp)"))


def human_label(col: str) -> str:
    """A column name as a header: units spelled out, underscores as spaces.

    >>> human_label("USA_deficit_with_JPN_usd_bn"), human_label("etr_partner_pct")
    ('USA deficit with JPN (USD bn per year)', 'etr partner (%)')
    """
    c = str(col)
    for suffix, unit in _UNITS:
        if c.endswith(suffix):
            return c[: -len(suffix)].replace("_", " ") + unit
    return c.replace("_", " ")


def table_html(df, *, digits: int = 2, max_rows: int = 40, cls: str = "tbl") -> str:
    """``df`` as HTML: first ``max_rows`` rows, floats with ``digits`` decimals and thousands separators."""
    head = "".join(f"<th>{escape(human_label(c))}</th>" for c in df.columns)
    body = []
    for row in df.head(max_rows).iter_rows():
        cells = []
        for v in row:
            if isinstance(v, float):
                txt = "" if not math.isfinite(v) else f"{v:,.{digits}f}"
                cells.append(f'<td class="num">{txt}</td>')
            else:
                cells.append(f"<td>{escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="note">First {max_rows} of {df.height} rows; all rows in the tables folder.</p>' if df.height > max_rows else ""
    return f'<div class="tblwrap"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{more}'
