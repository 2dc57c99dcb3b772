"""Policy facts of late 2025 and 2026 for the US-Japan case: ``us_japan_policy_facts_2026.facts``.

Bundles ``us_japan_policy_facts/facts_2026.csv`` beside ``facts.csv`` (same columns,
same ``value_num`` convention as :mod:`builders.facts`): the IEEPA ruling and the end of
collection, refunds, the replacement tariffs (Section 122, the forced-labor Section 301
tier for Japan), the survival of the Section 232 autos deal, the investment MOU's
mechanics, the first tranche, Japan's defence spending and the host-nation support
agreement's expiry. The file lands in ``bundled/us_japan_policy_facts/facts_2026.parquet``;
it is its own manifest record because its sources and years differ from ``facts.csv``.
"""

from __future__ import annotations

from pathlib import Path

from .common import record, write_table
from .facts import COLS, read_facts

COLS_2026 = {**COLS, "verified": "how many independent sources agree, e.g. 'verified (two sources)', "
                                 "'one reputable source; disputed by Tokyo'"}


def build(source: Path, out: Path) -> list[dict]:
    path = source / "us_japan_policy_facts" / "facts_2026.csv"
    if not path.exists():
        return []
    df = read_facts(path, COLS_2026)
    tables = {"facts": write_table(df, out / "us_japan_policy_facts", "facts_2026", COLS_2026)}
    return [record(
        "us_japan_policy_facts_2026",
        title="US-Japan policy facts 2026: IEEPA ruling, replacement tariffs, investment MOU mechanics, host-nation support",
        kind="facts", year="2025-2027",
        source="../shared/data/us_japan_policy_facts (facts_2026.csv, hand-entered from the documents named per row)",
        publisher="various (court records, CBP, USTR, law firms, Budget Lab (Yale, MIT), news reports); see source_* columns",
        license="facts from public documents; Budget Lab repositories MIT",
        units="as in the `unit` column (dates, USD bn, fractions)",
        citation="Learning Resources, Inc. v. Trump (2026); USTR forced-labor Section 301 notice (FR 2026-15181); "
                 "per-row sources in the table",
        tables=tables,
        notes="`verified` says how many independent sources agree; the MOU cash-flow split is disputed by Tokyo.",
    )]
