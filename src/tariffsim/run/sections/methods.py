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
    prov = (ctx.world.meta or {}).get("provenance") if ctx.world is not None else None
    built = provenance_html(ctx.world.name, prov) if prov else ""
    refs = built + "<h3>References</h3><ul>" + "".join(f"<li>{escape(r['citation'])}</li>" for r in rows if r["citation"]) + "</ul>"
    return SectionResult("methods", "", tables={"sources": df}, data={"datasets": names},
                         prose_html=METHODS_HTML + "<h3>Data sources</h3>",
                         views=[TableView(df.select("dataset", "title", "year", "source", "license"), max_rows=50)],
                         prose_after_html=refs)


def provenance_html(name: str, prov: dict) -> str:
    """How a world built from MRIO files was made: build command, input files and SHA-256, inventory rule,
    sectors and importers without tariff data (``World.meta["provenance"]``, :mod:`tariffsim.data.mrio.provenance`)."""
    files = "".join(f"<li><code>{escape(str(f.get('file', '')))}</code> sha256 <code>{escape(str(f.get('sha256', '')))}</code></li>"
                    for f in prov.get("files", []))
    inv = prov.get("inventories", {}) or {}
    tar = prov.get("tariffs", {}) or {}
    missing = ", ".join(escape(str(x)) for x in tar.get("sectors_without_tariff_data") or [])
    importers = ", ".join(escape(str(x)) for x in tar.get("importers_without_tariff_data") or [])
    out = (f"<h3>How the world {escape(name)} was built</h3><p>Command: <code>{escape(str(prov.get('build_command', '')))}</code>; "
           f"valuation: {escape(str(prov.get('valuation', '')))}; inventory rule: {escape(str(inv.get('rule', '')))}"
           + (f" (largest relative output change {float(inv['max_relative_output_change']):.3%})"
              if "max_relative_output_change" in inv else "")
           + ".</p>")
    if files:
        out += f"<p>Input files:</p><ul>{files}</ul>"
    if missing or importers:
        out += f"<p>No tariff data: sectors {missing or 'none'}; importers {importers or 'none'} (zero tariffs there).</p>"
    return out
