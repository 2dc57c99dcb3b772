"""The US-Japan agreement clause by clause on a date: status, value to each side, and the whole deal.

Each clause is valued alone against the no-deal alternative on that date (the
:func:`~tariffsim.strategy.threat.threat_point`, by default with its default instruments):

    EV_c = EV(no deal + clause c) - EV(no deal),    EV_deal = EV(no deal + every clause in force) - EV(no deal)

with ``EV = (W_hat - 1) I0`` in the Caliendo-Parro GE model (USD bn/yr). Clauses interact in
GE, so ``sum_c EV_c`` differs from ``EV_deal``; the ledger reports the gap. The autos clause
is also valued in the product-level PE model (exact CES, US imports 2024 by HS10 and source;
:func:`tariffsim.models.pe.simulate_schedule`) on the HS10 lines whose rate it changes.

How each clause enters (``method`` column):

- US tariff clauses (reciprocal floor, Section 232 autos and parts, the 232 caps, and on 2026
  dates the instruments that replaced the floor): the dated US schedule with the clause's
  measures kept vs the threat variant without them, aggregated to the world's sectors
  (:func:`~tariffsim.strategy.threat.partner_sector_tariffs`);
- purchases (rice, USD 8bn of farm and other goods, defence procurement, Boeing aircraft when
  priced): the purchase-commitment mechanism of :func:`~tariffsim.strategy.deal.deal_outcome`
  (Japan's import-subsidy equivalent that raises its imports from the US in the named sectors by
  the committed amount over the base-year flows). Rice: the US share of Japan's minimum-access
  quota rises 75% (EO 14345) from 346,000 t (FY2024, ``japan_tariffs.trqs``) at a US export price
  of USD 1.10/kg (``policy.japan.UNIT_PRICES_USD``); the quota total is unchanged, so the extra US
  rice displaces other origins inside the quota. The out-of-quota duty (JPY 341/kg) is reported as
  its AVE; it does not bind inside the quota. Defence goods go into ICIO sector 21 "Other transport
  equipment" (aircraft, ships, military vehicles: ISIC Rev.4 division 30), the sector that holds
  them in the 44-sector list;
- the investment vehicle: a transfer Japan -> US of its annual transfer equivalent
  (:func:`~tariffsim.strategy.investment.investment_transfer`, or ``pledge x grant_share``);
- host-nation support: a transfer Japan -> US of the increase over the current Special
  Measures Agreement (``hns_increase_usd_bn``, default 0: the SMA FY2022-26 is in the baseline
  and its renewal is pending).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from datetime import date as Date
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ScenarioError
from ..world import World
from .deal import Deal, deal_outcome
from .facts import fact
from .game import _Game
from .investment import ASSUMED_DISCOUNT_RATE, ASSUMED_HORIZON_YEARS, investment_transfer
from .facts import ASSUMED_PLEDGE_RETURN
from .sector_groups import default_purchase_sectors
from .threat import (DEAL_MEASURES, _schedule, FL301_START, IEEPA_LAST_DAY, S122_START, ThreatPoint, check_date,
                     partner_sector_tariffs, threat_point, us_schedule)

CLAUSES = ("reciprocal_floor", "floor_replacement", "autos_232", "s232_caps", "rice_minimum_access",
           "ag_purchases", "boeing_aircraft", "defense_procurement", "investment_vehicle", "host_nation_support")
US_TARIFF_CLAUSES = ("reciprocal_floor", "floor_replacement", "autos_232", "s232_caps")
EO14345 = Date(2025, 9, 4)
AUTOS_FROM = Date(2025, 9, 16)
SMA_EXPIRY = Date(2027, 3, 31)
#: ICIO 44 sector of defence equipment (aircraft, ships, military fighting vehicles: ISIC Rev.4 division 30)
DEFENSE_SECTOR = "21"
RICE_SECTOR = "1"
#: US-origin minimum-access rice FY2024 (t), japan_tariffs.trqs (Yomiuri Shimbun 2025-07-25)
RICE_US_MA_T = 346_000.0
JPY_PER_USD = 151.4


@dataclass(frozen=True)
class DealTerms:
    """Terms of the US-Japan agreement the ledger values (defaults: bundled facts; assumptions marked).

    Money in USD bn a year unless said. ``transfer_method``: ``"mou"`` (the pledge's transfer
    equivalent from :func:`investment_transfer` with ``annual_return``, ``discount_rate``,
    ``horizon_years``, ``disbursement``) or ``"grant_share"`` (``pledge x grant_share`` a year).
    ``boeing_unit_price_usd_mn`` / ``boeing_years``: no sourced price or delivery schedule, so the
    aircraft clause is ``not valued`` unless both are given.
    """

    rice_increase_share: float = 0.75
    rice_us_ma_t: float = RICE_US_MA_T
    rice_price_usd_per_kg: float = 1.10
    ag_purchases_usd_bn: float = 8.0
    defense_from_usd_bn: float = 14.0
    defense_to_usd_bn: float = 17.0
    boeing_aircraft: int = 100
    boeing_unit_price_usd_mn: float | None = None
    boeing_years: int | None = None
    pledge_usd_bn: float = 550.0
    transfer_method: str = "mou"
    annual_return: float = ASSUMED_PLEDGE_RETURN
    discount_rate: float = ASSUMED_DISCOUNT_RATE
    horizon_years: int = ASSUMED_HORIZON_YEARS
    disbursement: str = "upfront"
    grant_share: float = 0.9 * ASSUMED_PLEDGE_RETURN
    hns_increase_usd_bn: float = 0.0

    def __post_init__(self) -> None:
        for k in ("rice_us_ma_t", "rice_price_usd_per_kg", "ag_purchases_usd_bn", "defense_from_usd_bn",
                  "defense_to_usd_bn", "pledge_usd_bn", "discount_rate", "annual_return"):
            v = getattr(self, k)
            if not np.isfinite(v) or v < 0:
                raise ScenarioError(f"deal: {k} must be a finite number >= 0, got {v!r}")
        for k in ("rice_increase_share", "grant_share"):
            if not 0.0 <= getattr(self, k) <= 1.0:
                raise ScenarioError(f"deal: {k} must lie in [0, 1], got {getattr(self, k)!r}")
        if self.transfer_method not in ("mou", "grant_share"):
            raise ScenarioError(f"deal: transfer_method must be 'mou' or 'grant_share', got {self.transfer_method!r}")
        if not np.isfinite(self.hns_increase_usd_bn):
            raise ScenarioError("deal: hns_increase_usd_bn must be finite")

    @classmethod
    def from_facts(cls, **over: Any) -> "DealTerms":
        """Defaults from ``us_japan_policy_facts`` (EO 14345, fact sheet), then ``over``."""
        base = dict(rice_increase_share=fact("deal_rice_increase_within_ma"),
                    ag_purchases_usd_bn=fact("deal_us_ag_and_other_purchases"),
                    defense_to_usd_bn=fact("deal_defense_purchases_us_firms"),
                    boeing_aircraft=int(fact("deal_boeing_aircraft")), pledge_usd_bn=fact("deal_investment_vehicle"))
        unknown = sorted(set(over) - set(cls.__dataclass_fields__))
        if unknown:
            raise ScenarioError(f"deal: unknown term(s) {', '.join(unknown)}")
        return cls(**{**base, **over})

    @property
    def rice_usd_bn(self) -> float:
        """Extra US rice inside the quota: share x US MA tonnes x price, USD bn/yr."""
        return self.rice_increase_share * self.rice_us_ma_t * 1e3 * self.rice_price_usd_per_kg / 1e9

    def transfer_usd_bn(self) -> tuple[float, str]:
        """The pledge's transfer equivalent (USD bn/yr) and how it was computed."""
        if self.transfer_method == "grant_share":
            return self.pledge_usd_bn * self.grant_share, f"pledge {self.pledge_usd_bn:g}bn x grant share {self.grant_share:g}"
        r = investment_transfer(self.pledge_usd_bn, self.annual_return, self.discount_rate, self.horizon_years,
                                disbursement=self.disbursement)
        return r.transfer_equivalent_usd_bn, r.summary()


def _status(clause: str, d: Date, terms: DealTerms) -> tuple[str, str]:
    """(status, replaced_by / note) of a clause on date d (legal facts by date)."""
    if clause == "reciprocal_floor":
        if d < EO14345:
            return "pending", "EO 14345 signed 2025-09-04 (retroactive to 2025-08-07)"
        if d <= IEEPA_LAST_DAY:
            return "in force", "EO 14345; HTS 9903.02.72/.73"
        return "struck down", ("IEEPA void from 2026-02-20 (Learning Resources, Inc. v. Trump); replaced by the Section "
                               "122 surcharge (2026-02-24 to 2026-07-23), then the forced-labor Section 301 tier "
                               "max(MFN, 12.5%) from 2026-07-24 (FR 2026-15181)")
    if clause == "floor_replacement":
        if d < S122_START:
            return "pending", "instruments that replaced the floor after the ruling (from 2026-02-24)"
        return "in force", ("Section 122 surcharge 10% (Japan's rate in the threat: s122_rate)" if d < FL301_START else
                            "forced-labor Section 301 tier for Japan: max(MFN, 12.5%) (FR 2026-15181)")
    if clause == "autos_232":
        return ("pending", "from 2025-09-16 (EO 14345)") if d < AUTOS_FROM else (
            "in force", "Section 232 instrument (HTS 9903.94.40-.43): survives the IEEPA ruling")
    if clause == "s232_caps":
        active = [m.name for m in _schedule().measures if m.name in DEAL_MEASURES["s232_caps"] and m.active(d)]
        if not active:
            return "pending", "caps bind once the 232 actions they cap are in force (wood from 2025-10-14, pharma 2026-09-29)"
        return "in force", "in force: " + ", ".join(active)
    if clause == "host_nation_support":
        note = ("Special Measures Agreement FY2022-26 (JPY 211bn/yr) in the baseline; expires 2027-03-31, renewal "
                f"pending; increase valued: {terms.hns_increase_usd_bn:g}bn/yr")
        return ("in force" if terms.hns_increase_usd_bn else "pending"), note
    if d < EO14345:
        return "pending", "EO 14345 / MOU of 2025-09-04"
    if clause == "investment_vehicle":
        return "in force", "MOU of 2025-09-04; first tranche USD 36bn announced 2026-02-17" if d >= Date(2026, 2, 17) \
            else "MOU of 2025-09-04 (no project funded yet)"
    return "in force", "EO 14345; White House fact sheet"


def _pe_autos(sched_with, sched_without, d: Date) -> tuple[float, float]:
    """Product-level PE value (USD bn/yr) of the autos clause: US net welfare and Japan's exporter surplus."""
    import polars as pl

    from ..errors import ScheduledDateWarning
    from ..models.pe import simulate_schedule
    from ..policy import us_imports_2024

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScheduledDateWarning)
        new = sched_with.at(d).select("hs10", "partner", "tariff_rate")
        old = sched_without.at(d).select("hs10", "partner", "tariff_rate")
    diff = new.join(old, on=["hs10", "partner"], suffix="_old").filter(
        (pl.col("partner") == "JPN") & ((pl.col("tariff_rate") - pl.col("tariff_rate_old")).abs() > 1e-12))
    hs = diff["hs10"].unique()
    imp = us_imports_2024().filter(pl.col("hs10").is_in(hs.implode()))
    keep = lambda t: t.filter(pl.col("hs10").is_in(hs.implode()))  # noqa: E731
    loader = {"with": _Static(keep(new)), "without": _Static(keep(old))}.__getitem__
    res = simulate_schedule("with", d, base="without", imports=imp, schedule_loader=loader)
    tot = res.summary(None).to_dicts()[0]
    by = res.summary("source")
    jp = by.filter(pl.col("source") == "JPN")["exporter_surplus_change_usd"]
    return tot["net_welfare_usd"] / 1e9, (float(jp[0]) if len(jp) else 0.0) / 1e9


def _merge_overlapping(purchases: Mapping[str, tuple[tuple[str, ...], float]]) -> dict[str, tuple[tuple[str, ...], float]]:
    """Commitments whose sector sets overlap become one commitment on the union (values add): one wedge per sector."""
    groups: list[tuple[list[str], set[str], float]] = []
    for lab, (secs, v) in purchases.items():
        hit = [g for g in groups if g[1] & set(secs)]
        labs, ss, tot = [lab], set(secs), float(v)
        for g in hit:
            labs, ss, tot = g[0] + labs, g[1] | ss, g[2] + tot
            groups.remove(g)
        groups.append((labs, ss, tot))
    return {" + ".join(labs): (tuple(sorted(ss)), tot) for labs, ss, tot in groups}


class _Static:
    """A schedule stand-in whose ``at`` returns a fixed rate table (for ``simulate_schedule``'s loader)."""

    def __init__(self, table):
        self.table = table

    def at(self, d):
        return self.table


@dataclass(frozen=True, eq=False)
class DealLedger:
    """The ledger on one date: ``table`` (polars, one row per clause), the whole deal and the GE gap.

    ``whole_ev_usd_bn`` = (USA, JPN) EV of the deal in force vs no deal (Japan does not retaliate under the
    deal); ``sum_ev_usd_bn`` the sum of the valued clauses; ``gap_usd_bn`` = whole - sum (GE interaction).
    ``deal_tariffs`` are the deal's equilibrium tariffs (purchase wedges included; ``deal_policy_tariffs``
    before the wedges), ``deal_transfer_usd`` its
    transfer (USD mn/yr); ``no_deal_ev_usd_bn`` the EV of the no-deal point vs the world's base year.
    """

    date: Date
    table: Any
    whole_ev_usd_bn: np.ndarray
    sum_ev_usd_bn: np.ndarray
    gap_usd_bn: np.ndarray
    no_deal: ThreatPoint
    terms: DealTerms
    closure: str
    deal_tariffs: np.ndarray = field(repr=False)
    deal_policy_tariffs: np.ndarray = field(repr=False, default=None)
    deal_transfer_usd: float = 0.0
    deal_purchases_usd: Mapping[str, tuple[tuple[str, ...], float]] = field(default_factory=dict)
    no_deal_ev_usd_bn: np.ndarray = field(default_factory=lambda: np.zeros(2))
    seconds: float = 0.0

    def summary(self) -> str:
        w, s, g = self.whole_ev_usd_bn, self.sum_ev_usd_bn, self.gap_usd_bn
        return (f"US-Japan deal on {self.date} vs no deal ({self.no_deal.regime}); EV USD bn/yr: whole deal USA "
                f"{w[0]:+.2f}, JPN {w[1]:+.2f}; sum of clauses USA {s[0]:+.2f}, JPN {s[1]:+.2f}; GE gap USA "
                f"{g[0]:+.3f}, JPN {g[1]:+.3f}")

    def __str__(self) -> str:
        return self.summary() + "\n" + str(self.table.select("clause", "status", "ev_usa_usd_bn", "ev_jpn_usd_bn"))


def deal_ledger(world: World, date: Any = "2025-09-16", deal: DealTerms | Mapping[str, Any] | None = None, *,
                clauses: Sequence[str] | None = None, no_deal: ThreatPoint | None = None, closure: str = "fixed",
                pe: bool = True) -> DealLedger:
    """One row per clause of the US-Japan agreement on ``date``, valued against the no-deal alternative.

    Parameters
    ----------
    world : World with USA and JPN and ICIO 44 sector codes (``world_io_7x44_2017``).
    date : a date inside the US schedule (2025-01-01 .. 2026-12-31).
    deal : :class:`DealTerms` or a mapping of its fields (default :meth:`DealTerms.from_facts`).
    clauses : subset of :data:`CLAUSES` (default all); unknown names raise ScenarioError.
    no_deal : the alternative (default :func:`threat_point` on ``date`` with its defaults).
    closure : ``"fixed"`` (observed deficits, default) or ``"balanced"``.
    pe : also value the autos clause in the product-level PE model.

    Returns
    -------
    DealLedger; ``table`` columns: clause, status, replaced_by, ev_usa_usd_bn, ev_jpn_usd_bn,
    pe_usa_usd_bn, pe_jpn_usd_bn, method, inputs, reason.
    """
    import polars as pl

    t_start = time.perf_counter()
    names = CLAUSES if clauses is None else tuple(clauses)
    bad = [c for c in names if c not in CLAUSES]
    if bad:
        raise ScenarioError(f"deal_ledger: unknown clause(s) {', '.join(map(repr, bad))}; known: {', '.join(CLAUSES)}")
    terms = DealTerms.from_facts() if deal is None else (deal if isinstance(deal, DealTerms) else DealTerms.from_facts(**dict(deal)))
    d = check_date(date)
    tp = threat_point(world, d) if no_deal is None else no_deal
    if tp.date != d:
        raise ScenarioError(f"deal_ledger: no_deal is the threat point of {tp.date}, not of {d}")
    game = _Game(world, ("USA", "JPN"), None, closure)
    w = game.world
    a, b = game.a, game.b
    threat = dict(tp.parameters)
    retaliation = np.asarray(tp.tariff_rate)[a, b]

    def us_tariffs(keep):
        t = partner_sector_tariffs(w, us_schedule(d, keep, **threat), d)
        t[a, b] = retaliation
        return t

    def ev(tariffs, transfer_usd=0.0, purchases=None):
        eq, _ = deal_outcome(game, Deal(name="ledger", tariffs=tariffs, transfer_usd=transfer_usd,
                                        purchases_usd=purchases or {}))
        return game.ev_of(eq) / 1e3

    t0 = np.asarray(tp.tariff_rate)
    ev0 = ev(t0)
    sec = default_purchase_sectors(w)
    T_inv, inv_how = terms.transfer_usd_bn()
    boeing = None
    if terms.boeing_unit_price_usd_mn is not None and terms.boeing_years:
        boeing = terms.boeing_aircraft * terms.boeing_unit_price_usd_mn / 1e3 / terms.boeing_years
    ooq_ave = 341.0 / JPY_PER_USD / terms.rice_price_usd_per_kg
    purchase = {
        "rice_minimum_access": ({RICE_SECTOR}, terms.rice_usd_bn,
                                f"+{terms.rice_increase_share:.0%} of {terms.rice_us_ma_t:,.0f} t US MA rice x USD "
                                f"{terms.rice_price_usd_per_kg:.2f}/kg = {terms.rice_usd_bn:.3f}bn/yr into sector 1 "
                                f"(agriculture); out-of-quota JPY 341/kg = AVE {ooq_ave:.0%} (not binding in quota)"),
        "ag_purchases": (set(sec["agriculture, food, chemicals"]), terms.ag_purchases_usd_bn,
                         f"USD {terms.ag_purchases_usd_bn:g}bn/yr into sectors {', '.join(sec['agriculture, food, chemicals'])}"),
        "defense_procurement": ({DEFENSE_SECTOR}, terms.defense_to_usd_bn - terms.defense_from_usd_bn,
                                f"USD {terms.defense_from_usd_bn:g}bn -> {terms.defense_to_usd_bn:g}bn/yr: +"
                                f"{terms.defense_to_usd_bn - terms.defense_from_usd_bn:g}bn into sector 21 (Other "
                                "transport equipment, ISIC 30: aircraft, ships, military vehicles)"),
        "boeing_aircraft": ({DEFENSE_SECTOR}, boeing,
                            f"{terms.boeing_aircraft} aircraft x USD {terms.boeing_unit_price_usd_mn} mn / "
                            f"{terms.boeing_years} yr into sector 21"),
    }
    transfers = {
        "investment_vehicle": (T_inv, f"transfer Japan -> US of {T_inv:.2f}bn/yr: {inv_how}"),
        "host_nation_support": (terms.hns_increase_usd_bn, f"transfer Japan -> US of the SMA increase "
                                                           f"{terms.hns_increase_usd_bn:g}bn/yr"),
    }
    rows, in_force_us, all_purchases, all_T = [], [], {}, 0.0
    for c in names:
        status, note = _status(c, d, terms)
        row = dict(clause=c, status=status, replaced_by=note if status in ("struck down", "replaced") else "",
                   ev_usa_usd_bn=0.0, ev_jpn_usd_bn=0.0, pe_usa_usd_bn=None, pe_jpn_usd_bn=None, method="", inputs=note,
                   reason="")
        if status != "in force":
            row["method"] = "not in force on the date: zero by definition"
            rows.append(row)
            continue
        if c in US_TARIFF_CLAUSES:
            e = ev(us_tariffs((c,))) - ev0
            row["method"] = ("GE (Caliendo-Parro): US schedule with the clause's measures vs the threat variant, "
                             "sector aggregates of HS10 rates")
            in_force_us.append(c)
            if c == "autos_232" and pe:
                pu, pj = _pe_autos(us_schedule(d, (c,), **threat), us_schedule(d, (), **threat), d)
                row["pe_usa_usd_bn"], row["pe_jpn_usd_bn"] = pu, pj
                row["method"] += "; PE: exact CES on the HS10 lines the clause changes (US net welfare; Japan's exporter surplus)"
        elif c in purchase:
            secs, v, how = purchase[c]
            if v is None:
                row.update(status="not valued", method="not valued",
                           reason="no sourced unit price or delivery schedule (give boeing_unit_price_usd_mn and "
                                  "boeing_years); the order overlaps existing Boeing orders")
                rows.append(row)
                continue
            p = {c: (tuple(sorted(secs)), 1e3 * v)}
            e = ev(t0, 0.0, p) - ev0
            all_purchases.update(p)
            row["method"], row["inputs"] = "GE: purchase commitment (Japan's import-subsidy equivalent)", how
        else:
            v, how = transfers[c]
            e = ev(t0, 1e3 * v) - ev0
            all_T += 1e3 * v
            row["method"], row["inputs"] = "GE: lump-sum transfer D1[USA] += T, D1[JPN] -= T", how
        row["ev_usa_usd_bn"], row["ev_jpn_usd_bn"] = float(e[0]), float(e[1])
        rows.append(row)
    t_deal = us_tariffs(tuple(in_force_us))
    t_deal[a, b] = np.asarray(w.tariffs)[a, b]          # with the deal Japan does not retaliate
    all_purchases = _merge_overlapping(all_purchases)
    eq_deal, _ = deal_outcome(game, Deal(name="ledger", tariffs=t_deal, transfer_usd=all_T, purchases_usd=all_purchases))
    whole = game.ev_of(eq_deal) / 1e3 - ev0
    tab = pl.DataFrame(rows, schema={"clause": pl.Utf8, "status": pl.Utf8, "replaced_by": pl.Utf8,
                                     "ev_usa_usd_bn": pl.Float64, "ev_jpn_usd_bn": pl.Float64,
                                     "pe_usa_usd_bn": pl.Float64, "pe_jpn_usd_bn": pl.Float64, "method": pl.Utf8,
                                     "inputs": pl.Utf8, "reason": pl.Utf8})
    s = np.array([tab["ev_usa_usd_bn"].sum(), tab["ev_jpn_usd_bn"].sum()])
    return DealLedger(date=d, table=tab, whole_ev_usd_bn=whole, sum_ev_usd_bn=s, gap_usd_bn=whole - s, no_deal=tp,
                      terms=terms, closure=closure, deal_tariffs=np.asarray(eq_deal.tariffs), deal_policy_tariffs=t_deal,
                      deal_transfer_usd=all_T,
                      deal_purchases_usd=all_purchases, no_deal_ev_usd_bn=ev0, seconds=time.perf_counter() - t_start)


__all__ = ["CLAUSES", "DealTerms", "DealLedger", "deal_ledger", "DEFENSE_SECTOR"]
