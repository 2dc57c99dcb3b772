"""Policy facts for the US–Japan case: ``us_japan_policy_facts.facts``.

One row per sourced fact (GAO costs of the US presence in Japan, host-nation
support under the Special Measures Agreement, the 2025 agreement's terms as in
EO 14345 and the White House fact sheet, 2024 trade values). The raw
``facts.csv`` mixes numbers, dates and rules in its ``value`` column; the
bundled table keeps the text in ``value`` and adds ``value_num`` (float, null
when the value is not a number) so the strategy layer can read defaults
without parsing. Every row keeps its source, quote and verification status.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .common import record, write_table

COLS = {
    "key": "fact identifier (snake_case, unique)",
    "value": "value as given by the source table (text: numbers, dates or rules)",
    "value_num": "value as a float in the unit of `unit`; null when the value is not a number",
    "unit": "unit of the value (USD bn, JPY bn, fraction, t, troops, ...)",
    "year": "calendar year or Japanese fiscal year range (FY = April-March) the value refers to",
    "description": "what the value measures",
    "source_title": "title of the source document",
    "source_publisher": "publisher of the source document",
    "source_url_or_repo": "where the source text was read (URL or repository)",
    "quote": "the sentence of the source that states the value",
    "verified": "'verified: primary' (official text), 'verified: secondary' (news/copy) or 'unverified'",
}


def read_facts(path: Path, cols: dict) -> pl.DataFrame:
    """A facts CSV as text columns plus ``value_num`` (the value where it is a number), keys unique, in ``cols`` order."""
    raw = pl.read_csv(path, infer_schema_length=0)  # every column as text: values mix numbers, dates and rules
    if raw["key"].n_unique() != raw.height:
        dup = raw.filter(pl.col("key").is_duplicated())["key"].to_list()
        raise ValueError(f"us_japan_policy_facts/{path.name}: duplicate keys {dup}")
    return raw.with_columns(
        pl.col("value").str.strip_chars().cast(pl.Float64, strict=False).alias("value_num"),
    ).select(list(cols))


def build(source: Path, out: Path) -> list[dict]:
    d = source / "us_japan_policy_facts"
    if not (d / "facts.csv").exists():
        return []
    df = read_facts(d / "facts.csv", COLS)
    o = out / "us_japan_policy_facts"
    tables = {"facts": write_table(df, o, "facts", COLS)}
    return [record(
        "us_japan_policy_facts",
        title="US-Japan policy facts: costs of US forces in Japan, host-nation support, 2025 agreement terms",
        kind="facts", year="2016-2025",
        source="../shared/data/us_japan_policy_facts (facts.csv, hand-entered from the documents named per row)",
        publisher="various (GAO, Federal Register, White House, USTR, Japan Customs, news reports); see source_* columns",
        license="facts from public documents; quotes for attribution",
        units="as in the `unit` column (USD bn, JPY bn, fractions)",
        citation="GAO-21-270 (2021); Executive Order 14345, 90 FR 43535 (2025); per-row sources in the table",
        tables=tables,
        notes="`verified` marks official text vs secondary copies vs unverified values; check primary documents before publication.",
    )]
