"""Section: methods (equations with sources) and the datasets used, with their source and license."""

from __future__ import annotations

from html import escape

import polars as pl

from ... import api
from ...errors import TariffsimError
from ..context import RunContext
from ..result import SectionResult, TableView
from .methods_text import METHODS_HTML

#: datasets every report draws on besides its world
REPORT_DATASETS = ["us_tariff_actions_2025", "hts_2025_mfn", "us_imports_japan_2024_hs10", "ustr_reciprocal_2025",
                   "elasticities", "japan_tariffs"]


def methods_section(ctx: RunContext) -> SectionResult:
    """The methods text and one row per dataset used (title, year, source, license, citation)."""
    names = list(dict.fromkeys(ctx.datasets_used + REPORT_DATASETS))
    rows = []
    for n in names:
        try:
            rec = api.dataset_info(n)
        except TariffsimError:
            continue
        rows.append({"dataset": n, "title": str(rec.get("title", "")), "year": str(rec.get("year", "")),
                     "source": str(rec.get("source", "")), "license": str(rec.get("license", "")),
                     "citation": str(rec.get("citation", ""))})
    df = pl.DataFrame(rows, schema={"dataset": pl.Utf8, "title": pl.Utf8, "year": pl.Utf8, "source": pl.Utf8,
                                    "license": pl.Utf8, "citation": pl.Utf8})
    refs = "<h3>References</h3><ul>" + "".join(f"<li>{escape(r['citation'])}</li>" for r in rows if r["citation"]) + "</ul>"
    return SectionResult("methods", "", tables={"sources": df}, data={"datasets": names},
                         prose_html=METHODS_HTML + "<h3>Data sources</h3>",
                         views=[TableView(df.select("dataset", "title", "year", "source", "license"), max_rows=50)],
                         prose_after_html=refs)
