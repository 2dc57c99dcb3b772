"""The USTR April-2025 "reciprocal tariff" formula and its table of announced rates.

USTR, "Reciprocal Tariff Calculations" (ustr.gov, April 2025): the tariff that would balance bilateral goods trade,

    Δτ_i = (m_i − x_i) / (ε · φ · m_i),     ε = 4 (import demand elasticity), φ = 0.25 (tariff pass-through)

(USTR writes x − m with the opposite sign convention; the rate is its magnitude for deficit partners), and the
announced "discounted reciprocal" rate is half of it, rounded up to a whole percent, with a 10% floor (EO 14257
sec. 3 and Annex I):

    rate_i = max(10%, ceil(100 · Δτ_i / 2) %)

Japan: m = 148,208.6, x = 79,740.8 (USD m, Census 2024) → Δτ = 46.2% → 24%.
"""

from __future__ import annotations

import math

import polars as pl

from ..data import read_table
from ..errors import ScenarioError


def ustr_reciprocal_rate(imports_usd: float, exports_usd: float, *, elasticity: float = 4.0,
                         passthrough: float = 0.25, floor: float = 0.10) -> float:
    """USTR April-2025 reciprocal tariff rate (fraction) from bilateral US goods imports and exports.

    ``max(floor, ceil(100 · (m − x) / (ε φ m) / 2) / 100)`` — USTR "Reciprocal Tariff Calculations" (2025).

    Parameters
    ----------
    imports_usd, exports_usd : US goods imports from / exports to the partner (same units; > 0 and >= 0).
    elasticity, passthrough : ε and φ (USTR: 4 and 0.25).
    floor : minimum rate (EO 14257: 10%).

    Examples
    --------
    >>> ustr_reciprocal_rate(148_208.6, 79_740.8)   # Japan, USD m
    0.24
    >>> ustr_reciprocal_rate(100.0, 150.0)           # US surplus: the floor
    0.1
    """
    m, x = float(imports_usd), float(exports_usd)
    if not (m > 0 and math.isfinite(m)):
        raise ScenarioError(f"ustr_reciprocal_rate: imports_usd must be > 0, got {imports_usd!r}")
    if not (x >= 0 and math.isfinite(x)):
        raise ScenarioError(f"ustr_reciprocal_rate: exports_usd must be >= 0, got {exports_usd!r}")
    if elasticity <= 0 or passthrough <= 0:
        raise ScenarioError("ustr_reciprocal_rate: elasticity and passthrough must be > 0")
    return max(floor, _half_ceil_pct(ustr_formula_delta(m, x, elasticity=elasticity, passthrough=passthrough)) / 100)


def ustr_formula_delta(imports_usd: float, exports_usd: float, *, elasticity: float = 4.0,
                       passthrough: float = 0.25) -> float:
    """Δτ = (m − x) / (ε φ m), the tariff USTR says would balance bilateral trade (fraction; < 0 for a surplus)."""
    return (imports_usd - exports_usd) / (elasticity * passthrough * imports_usd)


def _half_ceil_pct(dtau: float) -> int:
    # round(., 9) guards against 23.000000001 from float division before the ceiling
    return math.ceil(round(100 * dtau / 2, 9))


def ustr_table(*, elasticity: float = 4.0, passthrough: float = 0.25, floor: float = 0.10) -> pl.DataFrame:
    """The formula for every Census partner next to the rate announced on 2 April 2025.

    Returns
    -------
    polars.DataFrame ``partner, iso3, imports_usd, exports_usd, formula_dtau, announced_rate, computed_rate,
    annex_i_rate, match, reason`` (rates as fractions). ``match`` is null where the formula does not apply
    (EU members take the EU rate; Canada, Mexico, Cuba, North Korea, Russia, Belarus are outside the regime);
    ``reason`` explains every non-match.

    ``announced_rate`` is the White House chart of 2 April 2025 where it lists the partner, else EO 14257 Annex I,
    else 10% (data folder ``ustr_reciprocal_2025``).
    """
    u = read_table("ustr_reciprocal_2025", "formula")
    rows = []
    for r in u.iter_rows(named=True):
        m, x = r["imports_usd_m"], r["exports_usd_m"]
        if m is None or x is None or m <= 0:
            continue
        d = ustr_formula_delta(m, x, elasticity=elasticity, passthrough=passthrough)
        comp = max(round(floor * 100), _half_ceil_pct(d))
        ann = r["announced_rate_pct"]
        annex = r["annex_i_rate_pct"]
        match: bool | None = None
        reason = None
        if r["excluded_from_reciprocal"]:
            reason = f"outside the reciprocal regime: {r['excluded_from_reciprocal']}"
        elif r["eu_member"]:
            reason = "EU member: the EU-wide rate applies (EO 14257 Annex I, European Union 20%)"
        elif ann is None:
            reason = "no announced rate"
        else:
            match = round(ann) == comp
            if not match:
                chart_style = max(10, math.ceil(round(100 * d) / 2 - 1e-9))
                if annex is None and round(ann) == 10 and comp > 10:
                    reason = (f"formula gives {comp}% but the partner is not in EO 14257 Annex I nor in the chart "
                              "transcription used: baseline 10% (press copies of the chart may differ; verify)")
                elif annex is not None and round(annex) == comp and round(ann) == comp - 1:
                    reason = (f"chart rounds the 'tariff charged' first: {round(100 * d)}%/2 -> {round(ann)}%; "
                              f"EO 14257 Annex I has the rule's {comp}%")
                elif round(ann) == chart_style:
                    reason = f"chart halves the rounded 'tariff charged' ({round(100 * d)}%) -> {round(ann)}%"
                else:
                    reason = "unexplained"
        rows.append({
            "partner": r["partner"], "iso3": r["iso3"], "imports_usd": m * 1e6, "exports_usd": x * 1e6,
            "formula_dtau": d, "announced_rate": None if ann is None else ann / 100, "computed_rate": comp / 100,
            "annex_i_rate": None if annex is None else annex / 100, "match": match, "reason": reason,
        })
    return pl.DataFrame(rows, schema_overrides={"announced_rate": pl.Float64, "annex_i_rate": pl.Float64,
                                                "match": pl.Boolean, "reason": pl.Utf8})


__all__ = ["ustr_reciprocal_rate", "ustr_formula_delta", "ustr_table"]
