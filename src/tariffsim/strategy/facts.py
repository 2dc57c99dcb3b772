"""Bargaining defaults read from the bundled ``us_japan_policy_facts`` table, each with its source.

:func:`fact` returns one numeric fact (in the unit of its row); :func:`policy_defaults`
lists the defaults of the bargaining model (security values, host-nation support, the
2025 agreement's terms, the April 2025 threat) with how each is derived, its fact keys and
source, and whether users should vary it.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import DataError, TariffsimError

FACTS = "us_japan_policy_facts"


@lru_cache(maxsize=1)
def _facts() -> dict[str, dict]:
    from ..data import read_table

    try:
        df = read_table(FACTS, "facts")
    except TariffsimError:
        return {}
    return {r["key"]: r for r in df.to_dicts()}


def fact(key: str) -> float:
    """A numeric fact of ``us_japan_policy_facts`` (in its own unit); :class:`DataError` when missing."""
    row = _facts().get(key)
    if row is None or row.get("value_num") is None:
        raise DataError(f"{FACTS}.facts: no numeric value for key {key!r} (rebuild with scripts/build_data.py --only facts)")
    return float(row["value_num"])


def _source(key: str) -> str:
    row = _facts().get(key, {})
    return f"{row.get('source_title', '?')} ({row.get('source_publisher', '?')}); {row.get('verified', '')}"


#: Annual return assumed on the investment vehicle's capital: an assumption, not a sourced fact.
ASSUMED_PLEDGE_RETURN = 0.05


def _default_values() -> list[dict]:
    """Each default: name, value, unit, how it is derived, the fact keys, whether users should vary it."""
    gao_cost = fact("gao_dod_obligations_japan_2016_2019") * 1e3 / 4.0
    gao_support = fact("gao_japan_direct_support_2016_2019") * 1e3 / 4.0
    profit = fact("deal_us_profit_share")
    return [
        dict(name="security_value_usd[JPN]", value=gao_cost, unit="USD mn/yr",
             derivation="US DoD obligations for its presence in Japan, USD 20.9bn over 2016-2019 / 4 (GAO-21-270): what "
                        "Japan would lose at least (replacement cost) if failed talks ended US protection",
             keys="gao_dod_obligations_japan_2016_2019", vary=True),
        dict(name="security_value_usd[USA]", value=0.0, unit="USD mn/yr",
             derivation="assumption: no security loss for the US at disagreement (its basing value is not in the data)",
             keys="", vary=True),
        dict(name="host_nation_support (reference)", value=fact("sma_fy2022_2026_annual_avg"), unit="JPY bn/yr",
             derivation="Special Measures Agreement FY2022-2026 average (about USD 1.8bn/yr); already in the baseline, "
                        "the transfer instrument T is support beyond it", keys="sma_fy2022_2026_annual_avg", vary=False),
        dict(name="japan_direct_support (reference)", value=gao_support, unit="USD mn/yr",
             derivation="Japan's cash and in-kind support for US forces, USD 12.6bn over 2016-2019 / 4 (GAO-21-270)",
             keys="gao_japan_direct_support_2016_2019", vary=False),
        dict(name="pledge_usd", value=fact("deal_investment_vehicle") * 1e3, unit="USD mn",
             derivation="the USD 550bn investment vehicle of the 2025 agreement", keys="deal_investment_vehicle", vary=True),
        dict(name="grant_share", value=profit * ASSUMED_PLEDGE_RETURN, unit="1/yr",
             derivation=f"US share of the vehicle's profits (0.9) x an ASSUMED {ASSUMED_PLEDGE_RETURN:.0%} annual return: "
                        "the income Japan forgoes each year per dollar pledged; 0 if the projects pay market returns to Japan",
             keys="deal_us_profit_share", vary=True),
        dict(name="deal_tariff_floor", value=fact("deal_baseline_tariff_japan"), unit="fraction",
             derivation="EO 14345: all-in US tariff max(MFN, 15%) on Japanese goods, autos included",
             keys="deal_baseline_tariff_japan,japan_auto_tariff_after_eo", vary=False),
        dict(name="purchases_usd[agriculture, food, chemicals]", value=fact("deal_us_ag_and_other_purchases") * 1e3,
             unit="USD mn/yr", derivation="EO 14345: Japanese purchases of US corn, soybeans, fertilizer, bioethanol and "
             "other goods, USD 8bn/yr, treated as additional to the baseline", keys="deal_us_ag_and_other_purchases", vary=True),
        dict(name="purchases_usd[other transport (defence)]", value=(fact("deal_defense_purchases_us_firms") - 14.0) * 1e3,
             unit="USD mn/yr", derivation="Japan's annual defence purchases from US firms raised from USD 14bn to 17bn (news "
             "report; secondary source)", keys="deal_defense_purchases_us_firms", vary=True),
        dict(name="threat: reciprocal rate", value=fact("reciprocal_rate_japan_april2025"), unit="fraction",
             derivation="IEEPA reciprocal rate on Japan announced 2 April 2025, added to MFN on goods other than autos",
             keys="reciprocal_rate_japan_april2025", vary=False),
        dict(name="threat: autos Section 232", value=fact("s232_autos_april2025"), unit="fraction",
             derivation="Section 232 additional duty on automobiles from April 2025, added to MFN", keys="s232_autos_april2025",
             vary=False),
    ]


def policy_defaults():
    """Tidy table (polars) of the bargaining defaults with their sources (``us_japan_policy_facts``).

    Columns: name, value, unit, derivation, fact keys, source, and ``vary`` (True where the
    number is a parameter users should vary rather than a fact).
    """
    import polars as pl

    rows = _default_values()
    for r in rows:
        r["source"] = "; ".join(_source(k) for k in r["keys"].split(",") if k) or "assumption"
    return pl.DataFrame(rows).select("name", "value", "unit", "derivation", "keys", "source", "vary")


__all__ = ["FACTS", "ASSUMED_PLEDGE_RETURN", "fact", "policy_defaults"]
