"""Data for the report section "The US-Japan deal, clause by clause, as of DATE" (issue 15, item 6).

:func:`deal_section` computes, for each date (default 2025-09-16 and today), the ledger
(:func:`~tariffsim.strategy.deal_ledger.deal_ledger`), the waterfall of clause values per side
(clauses in ledger order, then the GE interaction, ending at the whole deal), the participation
margins (:func:`~tariffsim.strategy.deal_holds.deal_holds`), their sensitivity to the assumptions,
and one line per date on whether the deal holds and why; and the exchange rates between instruments
at the deal on the last date (:func:`~tariffsim.strategy.exchange_rates.exchange_rates`). Pure
data (polars tables, strings) for the runner; nothing is rendered here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date as Date
from typing import Any, Sequence

from ..world import World
from .deal_holds import SIDES, deal_holds, margin_sensitivity
from .deal_ledger import DealLedger, DealTerms, deal_ledger
from .exchange_rates import exchange_rates
from .threat import check_date

FIRST_DATE = "2025-09-16"


@dataclass(frozen=True, eq=False)
class DealSection:
    """Frozen tables of the section; ``lines`` has one sentence per date (does the deal hold, and why).

    ``ledger``: one row per (date, clause); ``waterfall``: (date, side, step, kind, value_usd_bn,
    start_usd_bn, end_usd_bn); ``margins``: (date, side, deal/threat EV, security value, margin, holds,
    binding clause); ``sensitivity``: margins over each assumption's range; ``exchange_rates`` at the
    deal on ``exchange_rate_date``.
    """

    dates: tuple[Date, ...]
    ledger: Any
    waterfall: Any
    margins: Any
    sensitivity: Any
    exchange_rates: Any
    exchange_rate_date: Date
    lines: tuple[str, ...]
    whole_ev_usd_bn: dict
    seconds: float

    def summary(self) -> str:
        return "\n".join(self.lines)


def _waterfall(L: DealLedger):
    import polars as pl

    rows = []
    for k, side in enumerate(SIDES):
        col = ("ev_usa_usd_bn", "ev_jpn_usd_bn")[k]
        level = 0.0
        for r in L.table.iter_rows(named=True):
            if r["status"] != "in force":
                continue
            v = float(r[col])
            rows.append(dict(date=str(L.date), side=side, step=r["clause"], kind="clause", value_usd_bn=v,
                             start_usd_bn=level, end_usd_bn=level + v))
            level += v
        g = float(L.gap_usd_bn[k])
        rows.append(dict(date=str(L.date), side=side, step="GE interaction", kind="interaction", value_usd_bn=g,
                         start_usd_bn=level, end_usd_bn=level + g))
        rows.append(dict(date=str(L.date), side=side, step="whole deal", kind="total",
                         value_usd_bn=float(L.whole_ev_usd_bn[k]), start_usd_bn=0.0,
                         end_usd_bn=float(L.whole_ev_usd_bn[k])))
    return pl.DataFrame(rows)


def deal_section(world: World | None = None, dates: Sequence[Any] | None = None, *,
                 deal: DealTerms | None = None, closure: str = "fixed") -> DealSection:
    """All data of the US-Japan deal section (module docstring).

    Parameters
    ----------
    world : default ``load_world("world_io_7x44_2017")``.
    dates : dates inside the US schedule; default (2025-09-16, today clipped to the schedule's end).
    deal : deal terms (default from the bundled facts).
    closure : GE closure.

    Returns
    -------
    DealSection. Cost: about 15 s per date plus 10-40 s once for the exchange-rate kernel's
    compilation (cached on disk after the first run), measured on 2 loaded cores.
    """
    import polars as pl

    t0 = time.perf_counter()
    if world is None:
        from ..models.baseline import load_world

        world = load_world("world_io_7x44_2017")
    if dates is None:
        from ..policy.schedules import builtin_schedule

        hi = builtin_schedule("latest").meta["valid_to"]
        dates = (FIRST_DATE, min(Date.today(), hi))
    ds = tuple(check_date(d) for d in dates)
    ledgers, falls, margins, sens, lines, whole = [], [], [], [], [], {}
    last_L = None
    for d in ds:
        L = deal_ledger(world, d, deal, closure=closure)
        h = deal_holds(world, d, ledger=L, closure=closure)
        ledgers.append(L.table.with_columns(pl.lit(str(d)).alias("date")).select("date", *L.table.columns))
        falls.append(_waterfall(L))
        margins.append(h.table().with_columns(pl.lit(str(d)).alias("date")).select("date", *h.table().columns))
        sens.append(margin_sensitivity(h, world, closure=closure))
        lines.append(h.line())
        whole[str(d)] = tuple(float(x) for x in L.whole_ev_usd_bn)
        last_L = L
    X = exchange_rates(world, last_L)
    return DealSection(dates=ds, ledger=pl.concat(ledgers), waterfall=pl.concat(falls), margins=pl.concat(margins),
                       sensitivity=pl.concat(sens), exchange_rates=X.table, exchange_rate_date=last_L.date,
                       lines=tuple(lines), whole_ev_usd_bn=whole, seconds=time.perf_counter() - t0)


__all__ = ["DealSection", "deal_section"]
