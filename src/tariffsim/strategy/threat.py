"""Threat points: the tariffs each side can impose if US-Japan talks fail, by legal authority and date.

:func:`threat_point` builds the US schedule on Japan that the instruments legally available on
a date allow, from the dated US schedule of the policy layer (``builtin_schedule("latest")``,
2025-01-01 to 2026-12-31), aggregates it to the world's sectors (import weights, HS -> ICIO
crosswalk; :func:`tariffsim.policy.to_world.sector_rates`, added to the world's base-year
tariffs as the change since 2025-01-01), and adds Japan's retaliation. Instruments:

=================================  ==========================================================================
while IEEPA is available           ``ieepa_rate``: IEEPA reciprocal rate on Japan (default the April 2025 rate,
(up to 2026-02-19)                 24%, EO 14257 Annex I), on top of MFN, Annex II and 232 goods excluded; the
                                   Japan floor and aircraft exemption of EO 14345 withdrawn.
always (Section 232 survives)      ``autos_232_rate``: the 232 autos deal withdrawn, Japanese autos and parts
                                   back to MFN + this rate (default 25%, Proclamation 10908);
                                   ``withdraw_232_caps``: Japan's 15% caps on wood (HTS 9903.76.21-.23),
                                   pharma (Proclamation 11020) and the other framework-partner 232 floors
                                   withdrawn (default True).
2026-02-24 to 2026-07-23           ``s122_rate``: Section 122 surcharge on Japan (default 15%, the statutory
                                   cap of Trade Act 1974 s.122; in force: 10%).
from 2026-07-24                    ``s301_tier_rate`` / ``s301_tier_rule``: Japan's forced-labor Section 301
                                   tier (in force: 12.5% net of MFN, FR 2026-15181) raised, by default to a
                                   flat 25% on top of MFN (``"ad_valorem"``; ``"floor_all_in"`` keeps the
                                   net-of-MFN form).
from 2026-03-11 (pending)          ``s301_autos_rate``: the excess-capacity Section 301 investigation (opened
                                   2026-03-11, no action found) as an additional duty on autos and parts
                                   (default 0: off).
any date                           ``retaliation_rate``: Japan's retaliatory duty on US goods, added to its
                                   tariffs in every goods sector (default 0; Customs Tariff Act of Japan,
                                   art. 6).
=================================  ==========================================================================

An instrument that is not legally available on the date is listed with ``available=False``
and has no effect. The dates come from ``us_japan_policy_facts_2026`` (ruling 2026-02-20,
collection end 2026-02-24, Section 301 excess-capacity initiation 2026-03-11) and the
schedule's own measures.

:func:`threat_2025` is the older sector-level April 2025 threat (kept for ``bargain``'s
``disagreement="threat"``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any, Iterable, Mapping

import numpy as np

from ..errors import DataError, ScenarioError
from ..world import World
from .facts import _default_values
from .sector_groups import _by_name, goods_sectors

#: Last day IEEPA tariffs were lawful: the day before Learning Resources, Inc. v. Trump (2026-02-20)
IEEPA_LAST_DAY = date(2026, 2, 19)
#: Section 122 surcharge window (Proclamation of 2026-02-20; 150 days)
S122_START, S122_END = date(2026, 2, 24), date(2026, 7, 23)
#: Forced-labor Section 301 tiers from (FR 2026-15181)
FL301_START = date(2026, 7, 24)
#: Section 301 excess-capacity investigation opened (pending; no action found by 2026-08)
S301_EXCESS_CAPACITY_START = date(2026, 3, 11)
#: Statutory cap of the Section 122 surcharge (19 U.S.C. 2132(a): "not to exceed 15 percent")
S122_CAP = 0.15
#: Schedule the legal facts are read from, and the base date of the world's calibration shift
SCHEDULE = "latest"
BASE_DATE = "2025-01-01"
AUTO_LISTS = ("list:s232_autos", "list:s232_auto_parts")

#: US measures that are terms of (or partner treatment under) the US-Japan deal, by ledger clause
DEAL_MEASURES: dict[str, tuple[str, ...]] = {
    "reciprocal_floor": ("ieepa-recip-jpn-floor", "ieepa-recip-jpn-aircraft"),
    "autos_232": ("s232-autos-jpn-floor",),
    "s232_caps": ("s232-furniture-jpn-eu-floor", "s232-pharma-deal", "s232-annex-1c-floor", "s232-polysilicon-floor"),
}
#: US measures that replaced the floor after the ruling (Japan's rate in them is what the threat raises)
REPLACING_MEASURES = ("s122", "s301-fl-net-125")

THREAT_DEFAULTS: dict[str, Any] = {
    "ieepa_rate": 0.24, "autos_232_rate": 0.25, "withdraw_232_caps": True, "s122_rate": S122_CAP,
    "s301_tier_rate": 0.25, "s301_tier_rule": "ad_valorem", "s301_autos_rate": 0.0, "retaliation_rate": 0.0,
}


# --------------------------------------------------------------------------- schedule variants
@lru_cache(maxsize=1)
def _schedule():
    from ..policy import builtin_schedule

    return builtin_schedule(SCHEDULE)


def check_date(d: Any) -> date:
    """``d`` as a date inside the dated US schedule (ScenarioError outside it)."""
    from ..policy._data import as_date

    s = _schedule()
    dd = as_date(d, "date")
    lo, hi = s.meta.get("valid_from"), s.meta.get("valid_to")
    if lo is not None and not lo <= dd <= hi:
        raise ScenarioError(f"date {dd} is outside the US schedule {SCHEDULE!r} ({lo} .. {hi})")
    return dd


def _for_partner(m, partner: str, name: str, **changes):
    """(original with ``partner`` carved out, a copy for ``partner`` only with ``changes``)."""
    return (replace(m, exclude_partners=tuple(m.exclude_partners) + (partner,)),
            replace(m, name=name, partners=(partner,), exclude_partners=(), **changes))


def us_schedule(d: date, keep: Iterable[str], partner: str = "JPN", **threat: Any):
    """The US schedule with the deal components in ``keep`` and the threat instruments for the others.

    ``keep`` names ledger clauses of :data:`DEAL_MEASURES` plus ``"floor_replacement"`` (Japan's rates
    in the measures that replaced the floor). Only ``partner``'s rows are meant to be read.
    """
    from ..policy import Schedule

    p = {**THREAT_DEFAULTS, **threat}
    keep = set(keep)
    base = _schedule()
    by_name = {m.name: m for m in base.measures}
    for names in list(DEAL_MEASURES.values()) + [REPLACING_MEASURES]:
        missing = [n for n in names if n not in by_name]
        if missing:
            raise DataError(f"US schedule {SCHEDULE!r} has no measure {', '.join(missing)} (deal terms)")
    drop, out = set(), []
    if "reciprocal_floor" not in keep:
        drop |= set(DEAL_MEASURES["reciprocal_floor"])
    if "autos_232" not in keep:
        drop |= set(DEAL_MEASURES["autos_232"])
    if "s232_caps" not in keep and p["withdraw_232_caps"]:
        drop |= set(DEAL_MEASURES["s232_caps"])
    for m in base.measures:
        if m.name in drop:
            if partner in m.partners and len(m.partners) > 1:     # shared with other partners: carve out Japan
                out.append(replace(m, exclude_partners=tuple(m.exclude_partners) + (partner,)))
            continue
        if m.name == "ieepa-recip-eo14326" and "reciprocal_floor" not in keep:
            rate = dict(m.rate)
            rate[partner] = float(p["ieepa_rate"])
            out.append(replace(m, rate=rate, start=min(m.start, d)))   # threat usable from any date while lawful
        elif m.name in ("s232-autos", "s232-auto-parts") and "autos_232" not in keep:
            out += _for_partner(m, partner, f"threat-{m.name}", rate=float(p["autos_232_rate"]))
        elif m.name == "s122" and "floor_replacement" not in keep:
            out += _for_partner(m, partner, "threat-s122", rate=float(p["s122_rate"]))
        elif m.name == "s301-fl-net-125" and "floor_replacement" not in keep:
            out += _for_partner(m, partner, "threat-s301-fl", rate=float(p["s301_tier_rate"]),
                                rule=str(p["s301_tier_rule"]))
        else:
            out.append(m)
    if float(p["s301_autos_rate"]) > 0 and d >= S301_EXCESS_CAPACITY_START:
        from ..policy import Measure

        out.append(Measure(name="threat-s301-excess-capacity-autos", layer="s301", rate=float(p["s301_autos_rate"]),
                           start=S301_EXCESS_CAPACITY_START, products=AUTO_LISTS, partners=(partner,),
                           authority="Section 301 excess-capacity (hypothetical action on autos)",
                           citation="investigation opened 2026-03-11 (us_japan_policy_facts_2026)"))
    return Schedule(f"{base.name}: threat variant", tuple(out), base.description, dict(base.meta))


@lru_cache(maxsize=4)
def _base_rows(world_key: tuple) -> np.ndarray:
    return _schedule().arrays(BASE_DATE)["tariff"]


def partner_sector_tariffs(world: World, schedule, d: date, partner: str = "JPN", home: str = "USA") -> np.ndarray:
    """World tariff array with ``home``'s tariffs on ``partner`` shifted by the schedule's change since 2025-01-01.

    ``t[partner, home, s] = t_world + (rate(d) - rate(2025-01-01))`` in sectors with 2024 imports, where
    ``rate`` is the import-weighted sector mean of the HS10 rates (:func:`~tariffsim.policy.to_world.sector_rates`).
    """
    import warnings

    from ..errors import ScheduledDateWarning
    from ..policy.to_world import sector_rates

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScheduledDateWarning)
        new, w = sector_rates(world, schedule.arrays(d)["tariff"], home)
        old, _ = sector_rates(world, _base_rows((world.name,)), home)
    i, j = world.index(partner), world.index(home)
    t = np.array(world.tariffs, dtype=float)
    has = w[i] > 0
    t[i, j, has] = t[i, j, has] + (new[i, has] - old[i, has])
    return t


@lru_cache(maxsize=16)
def _threat_us_side(world: World, d: date, partner: str, home: str, key: tuple) -> np.ndarray:
    """The US side of the threat (cached: a schedule evaluation costs about a second)."""
    t = partner_sector_tariffs(world, us_schedule(d, (), partner, **dict(key)), d, partner, home)
    t.setflags(write=False)
    return t


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class ThreatPoint:
    """Tariffs if talks fail on ``date``: ``tariff_rate`` (exporter, importer, sector), the instruments used."""

    date: date
    home: str
    partner: str
    regime: str
    parameters: Mapping[str, Any]
    instruments: tuple[dict, ...]
    tariff_rate: np.ndarray
    label: str

    def table(self):
        """Tidy polars table: instrument, parameter, value, available, authority."""
        import polars as pl

        return pl.DataFrame(list(self.instruments))

    def summary(self) -> str:
        used = [f"{r['parameter']}={r['value']}" for r in self.instruments if r["available"]]
        return f"threat point {self.home}->{self.partner} on {self.date} ({self.regime}): " + ", ".join(used)

    def __str__(self) -> str:
        return self.summary()


def _check_threat(p: Mapping[str, Any]) -> None:
    unknown = sorted(set(p) - set(THREAT_DEFAULTS))
    if unknown:
        raise ScenarioError(f"threat_point: unknown instrument(s) {', '.join(unknown)}; known: {', '.join(THREAT_DEFAULTS)}")
    for k in ("ieepa_rate", "autos_232_rate", "s122_rate", "s301_tier_rate", "s301_autos_rate", "retaliation_rate"):
        v = p[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or not 0.0 <= v <= 5.0:
            raise ScenarioError(f"threat_point: {k} must be a rate in [0, 5], got {v!r}")
    if p["s122_rate"] > S122_CAP + 1e-12:
        raise ScenarioError(f"threat_point: s122_rate {p['s122_rate']:g} exceeds the statutory cap of 15% (19 U.S.C. 2132)")
    if p["s301_tier_rule"] not in ("ad_valorem", "floor_all_in"):
        raise ScenarioError(f"threat_point: s301_tier_rule must be 'ad_valorem' or 'floor_all_in', got {p['s301_tier_rule']!r}")


def threat_point(world: World, date: Any, home: str = "USA", partner: str = "JPN", **instruments: Any) -> ThreatPoint:
    """The tariffs each side can impose if talks fail on ``date``, from the instruments legally available then.

    Parameters
    ----------
    world : World with ``home`` and ``partner`` regions and ICIO 44 sector codes (``world_io_7x44_2017``).
    date : a date inside the US schedule (2025-01-01 .. 2026-12-31).
    home, partner : only ``"USA"`` and ``"JPN"``: the legal instruments are those of the US-Japan case.
    **instruments : override :data:`THREAT_DEFAULTS` (module docstring): ``ieepa_rate``, ``autos_232_rate``,
        ``withdraw_232_caps``, ``s122_rate``, ``s301_tier_rate``, ``s301_tier_rule``, ``s301_autos_rate``,
        ``retaliation_rate``.

    Returns
    -------
    ThreatPoint; pass it as ``bargain(..., disagreement=tp)`` or to :func:`~tariffsim.strategy.deal_holds.deal_holds`.
    """
    if (home, partner) != ("USA", "JPN"):
        raise ScenarioError(f"threat_point: the legal instruments are those of the US-Japan case; got {home}-{partner}")
    for r in (home, partner):
        world.index(r)
    p = {**THREAT_DEFAULTS, **instruments}
    _check_threat(p)
    d = check_date(date)
    t = _threat_us_side(world, d, partner, home, tuple(sorted((k, v) for k, v in p.items() if k != "retaliation_rate")))
    t = np.array(t)
    goods = [world.sectors.index(s) for s in goods_sectors(world)]
    i, j = world.index(home), world.index(partner)
    t[i, j, goods] += float(p["retaliation_rate"])
    ieepa = d <= IEEPA_LAST_DAY
    rows = [
        dict(parameter="ieepa_rate", value=p["ieepa_rate"], available=ieepa,
             authority="IEEPA reciprocal (EO 14257 Annex I April rate); void from 2026-02-20 (Learning Resources v. Trump)"),
        dict(parameter="autos_232_rate", value=p["autos_232_rate"], available=True,
             authority="Section 232 autos and parts (Proclamation 10908): withdraw the 15% all-in deal (EO 14345)"),
        dict(parameter="withdraw_232_caps", value=p["withdraw_232_caps"], available=True,
             authority="Section 232 wood (HTS 9903.76.21-.23), pharma (Proclamation 11020) and framework floors"),
        dict(parameter="s122_rate", value=p["s122_rate"], available=S122_START <= d <= S122_END,
             authority="Section 122 surcharge, 2026-02-24 to 2026-07-23, cap 15% (19 U.S.C. 2132)"),
        dict(parameter="s301_tier_rate", value=p["s301_tier_rate"], available=d >= FL301_START,
             authority=f"forced-labor Section 301 tier for Japan (FR 2026-15181), rule {p['s301_tier_rule']}"),
        dict(parameter="s301_autos_rate", value=p["s301_autos_rate"], available=d >= S301_EXCESS_CAPACITY_START,
             authority="Section 301 excess-capacity investigation on autos (opened 2026-03-11; no action: off by default)"),
        dict(parameter="retaliation_rate", value=p["retaliation_rate"], available=True,
             authority="Japan's retaliatory duties (Customs Tariff Act of Japan, art. 6), all goods sectors"),
    ]
    for r in rows:
        r["value"] = str(r["value"])
    regime = "IEEPA available" if ieepa else "after the IEEPA ruling"
    return ThreatPoint(date=d, home=home, partner=partner, regime=regime, parameters=p, instruments=tuple(rows),
                       tariff_rate=t, label=f"threat point {d} ({regime})")


def threat_2025(world: World, home: str = "USA", partner: str = "JPN") -> np.ndarray:
    """April 2025 US tariffs on Japan, no retaliation: MFN + 24% reciprocal on goods, MFN + 25% (Section 232) on autos.

    Sector level (every goods sector of the world); :func:`threat_point` is the product-level, dated version.
    """
    d = {r["name"]: r["value"] for r in _default_values()}
    t = np.array(world.tariffs, dtype=float)
    i, j = world.index(partner), world.index(home)
    goods = goods_sectors(world)
    autos = _by_name(world, ("motor vehicle",), goods)
    for s in goods:
        k = world.sectors.index(s)
        t[i, j, k] += d["threat: autos Section 232"] if s in autos else d["threat: reciprocal rate"]
    return t


__all__ = ["ThreatPoint", "threat_point", "threat_2025", "us_schedule", "partner_sector_tariffs", "check_date",
           "THREAT_DEFAULTS", "DEAL_MEASURES", "REPLACING_MEASURES", "IEEPA_LAST_DAY"]
