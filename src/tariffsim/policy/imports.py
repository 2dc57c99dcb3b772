"""Base-year import weights: US imports for consumption 2024 by (hs10, partner)."""

from __future__ import annotations

from typing import Iterable

import polars as pl

from ..errors import ScenarioError
from ._data import EU27, base


def us_imports_2024(partners: Iterable[str] | str | None = None) -> pl.DataFrame:
    """US imports for consumption, 2024, customs value by HS10 x partner (the ETR weights).

    Parameters
    ----------
    partners : ISO3 codes (``"EU"`` = the 27 members) to keep; ``None`` = all 220+ partners.

    Returns
    -------
    polars.DataFrame ``hs10, partner, value_usd, duties_usd, imputed``. ``duties_usd`` are Census calculated duties
    (null on imputed rows). ``imputed`` rows belong to partners without HS10 detail in the source: their HS2
    values are split to HS10 by the mix of the EU aggregate (EU members) or of the pooled detail partners.
    Totals match Census: $3,251.2bn over 226 Census partners; Japan $151.34bn.

    Source: US Census Bureau, imports for consumption 2024 (CON_VAL_YR, CAL_DUT_YR), via tradewartracker.
    """
    b = base()
    t = b.table
    df = pl.DataFrame({
        "hs10": pl.Series(b.hs10_codes).gather(t["h"]),
        "partner": pl.Series(list(b.partners)).gather(t["p"]),
        "value_usd": t["value_usd"], "duties_usd": t["duties_usd"], "imputed": t["imputed"],
    })
    if partners is None:
        return df
    want = [partners] if isinstance(partners, str) else list(partners)
    codes: set[str] = set()
    for c in want:
        if c == "EU":
            codes |= set(EU27)
        elif c in b.partners:
            codes.add(c)
        else:
            raise ScenarioError(f"us_imports_2024: unknown partner {c!r} (no 2024 US imports)")
    return df.filter(pl.col("partner").is_in(sorted(codes)))


__all__ = ["us_imports_2024"]
