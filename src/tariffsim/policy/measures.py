"""Tariff measures: one legal action with its product scope, partner scope, rate rule, dates and stacking class.

A :class:`Measure` is data only; :mod:`tariffsim.policy.stacking` turns an ordered list of them into rates per
(hs10, partner, date). Measures are built in code (the built-in 2025 timeline in
:mod:`tariffsim.policy.schedules`) or from YAML dicts (:meth:`Measure.from_dict`), e.g.::

    - name: jpn-autos-10
      layer: s232
      products: ["8703"]
      partners: [JPN]
      rate: 0.10
      start: 2026-01-01
      replaces: [s232-autos, s232-autos-jpn-floor]
      authority: hypothetical deal
      citation: none

Layers (stacking classes, docs/design.md §6 and ``us_tariff_actions_2025/stacking_rules.md`` §1):

========================  ================================================================================
``mfn``                   replaces the applied column-1 rate where it applies (e.g. a negotiated cut)
``s232``                  Section 232; several programmes on one product: the highest applies
``ieepa_reciprocal``      IEEPA reciprocal (EO 14257 and successors); not on 232 goods, not on exempt lists
``ieepa_fentanyl``        IEEPA fentanyl/border (EO 14193-14195); stacks on reciprocal
``ieepa_country``         IEEPA country surcharges (Brazil EO 14323, India EO 14329); additive
``s122``                  Section 122 balance-of-payments surcharge (2026-02-24 .. 2026-07-23)
``s301``                  Section 301 China lists (incl. cranes/chassis); overlapping lists: the highest applies
``s301_fl``               Section 301 forced-labor tiers (U.S. note 52, from 2026-07-24); additive on China 301
``s301_brazil``           Section 301 Brazil (U.S. note 50, from 2026-07-22); additive on forced-labor 301
``s338``                  Section 338 Canada lists (U.S. note 51); additive
``s201``                  Section 201 safeguards (solar CSPV, quartz surfaces); additive
``other``                 any other additional duty (user measures)
========================  ================================================================================

:data:`AUTHORITY` maps layers to the legal authority of the ETR decomposition (MFN, S232, IEEPA, S122, S301,
S338, S201, other).

Rate rules: ``ad_valorem`` (``rate`` is a fraction, a scalar or a per-partner map; ``rate: null`` takes the rate of
each product-list entry) and ``floor_all_in`` (the layer's duty tops the total up to ``rate`` including MFN:
``max(rate - MFN, 0)`` when the column-1 rate is below ``rate``, else 0 — HTS 9903.02.72/.73, U.S. note 2(v)).
Specific duties enter as ``specific_usd`` + ``unit_value_usd`` and are converted to an AVE here.
Basis: ``full`` (customs value) or a metal content (``steel``, ``aluminum``, ``copper``, ``metal``, or ``list``:
the metal named by each product-list entry) — Section 232 derivatives pay on metal content only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Mapping

from ..errors import ScenarioError
from ._data import as_date

LAYERS = ("mfn", "s232", "ieepa_reciprocal", "ieepa_fentanyl", "ieepa_country", "s122", "s301", "s301_fl",
          "s301_brazil", "s338", "s201", "other")
AUTHORITY = {"mfn": "MFN", "s232": "S232", "ieepa_reciprocal": "IEEPA", "ieepa_fentanyl": "IEEPA",
             "ieepa_country": "IEEPA", "s122": "S122", "s301": "S301", "s301_fl": "S301", "s301_brazil": "S301",
             "s338": "S338", "s201": "S201", "other": "other"}
AUTHORITIES = ("MFN", "S232", "IEEPA", "S122", "S301", "S338", "S201", "other")
END_REASONS = ("", "expired", "replaced", "struck_down", "terminated")
RULES = ("ad_valorem", "floor_all_in")
BASES = ("full", "steel", "aluminum", "copper", "metal", "list")
_HS = re.compile(r"^\d{2}(\d{2}){0,4}$")
_ISO = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Measure:
    """One tariff measure. All rates are fractions (0.25 = 25%); ``end`` is the last day in force (inclusive).

    Parameters
    ----------
    name : unique id within a schedule (used by ``replaces`` and in error messages).
    layer : stacking class, one of :data:`LAYERS`.
    rate : scalar, ``{ISO3: rate}`` (``EU`` expands to the 27 members), or ``None`` to take each product-list
        entry's own rate (Section 301 lists).
    products : HS codes at any level (2-10 digits), ``"list:<name>"`` for a bundled product list, or ``"all"``.
    partners : ISO3 codes, ``"EU"`` (the 27 members) or ``"all"``.
    exclude_products, exclude_partners : carve-outs, same syntax (e.g. Annex II: ``list:ieepa_annex_ii_apr2025``).
    start, end : first and last day in force.
    rule : ``ad_valorem`` or ``floor_all_in``.
    basis : value the rate applies to (see module docstring).
    replaces : names of measures of the same layer this one overrides where both apply.
    stacks_on_232 : if False the measure does not apply to the Section-232-covered share of a product
        (EO 14257 §3(b) for reciprocal tariffs; EO 14289 for CA/MX fentanyl duties).
    excluded_by_232 : if True the measure does not apply at all to an article in the scope of a Section 232
        programme in force (a per-article exclusion, not a content split: forced-labor 301 note 52(f), Brazil
        301 note 50(a)(vi), Section 338 note 51(c)).
    usmca_exempt : USMCA-qualifying goods of Canada and Mexico are exempt: the duty on CAN/MEX rows is scaled by
        ``1 - usmca_share[hs10, partner]`` of the schedule's convention.
    usmca_exclude_products : products on which a ``usmca_exempt`` measure grants no USMCA relief (same syntax as
        ``products``; e.g. the steel/aluminium chapters 72, 73 and 76 of the 2026 metals annexes, which have no
        USMCA carve-out).
    partner_scale : ``{ISO3: share}`` share of trade actually subject; key ``all`` sets the default (else 1).
    product_scale : ``{product code or list: share}`` share of the duty paid on those products (use-conditional
        exclusions: e.g. forced-labor civil-aircraft-use lines pay 10%, Budget Lab ``aircraft_exempt_share``).
    end_reason : why the measure ended (``expired``, ``replaced``, ``struck_down``, ``terminated``).
    suspended_from : first day of a suspension that delays ``start`` (the measure is *suspended* in between).
    authority, citation, note : legal source (printed in tables and docs).
    """

    name: str
    layer: str
    rate: float | Mapping[str, float] | None
    start: date
    products: tuple[str, ...] = ("all",)
    partners: tuple[str, ...] = ("all",)
    exclude_products: tuple[str, ...] = ()
    exclude_partners: tuple[str, ...] = ()
    end: date | None = None
    rule: str = "ad_valorem"
    basis: str = "full"
    replaces: tuple[str, ...] = ()
    stacks_on_232: bool = True
    excluded_by_232: bool = False
    usmca_exempt: bool = False
    usmca_exclude_products: tuple[str, ...] = ()
    partner_scale: Mapping[str, float] = field(default_factory=dict)
    product_scale: Mapping[str, float] = field(default_factory=dict)
    end_reason: str = ""
    suspended_from: date | None = None
    authority: str = ""
    citation: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        n = self.name
        if not isinstance(n, str) or not n.strip():
            raise ScenarioError("measure: name must be a non-empty string")
        if self.layer not in LAYERS:
            raise ScenarioError(f"measure {n}: unknown layer {self.layer!r}; known: {', '.join(LAYERS)}")
        if self.rule not in RULES:
            raise ScenarioError(f"measure {n}: unknown rule {self.rule!r}; known: {', '.join(RULES)}")
        if self.basis not in BASES:
            raise ScenarioError(f"measure {n}: unknown basis {self.basis!r}; known: {', '.join(BASES)}")
        if not isinstance(self.start, date):
            raise ScenarioError(f"measure {n}: start must be a date")
        if self.end is not None and self.end < self.start:
            raise ScenarioError(f"measure {n}: end date {self.end} is before its start {self.start}")
        rates = self.rate.values() if isinstance(self.rate, Mapping) else ([] if self.rate is None else [self.rate])
        for r in rates:
            if not isinstance(r, (int, float)) or r != r or r in (float("inf"), float("-inf")):
                raise ScenarioError(f"measure {n}: rate {r!r} is not a finite number")
            if r <= -1.0:
                raise ScenarioError(f"measure {n}: rate {r:g} is below -100%" if r < -1.0
                                    else f"measure {n}: rate -100% is not allowed (must be greater than -100%)")
        if self.rule == "floor_all_in" and not isinstance(self.rate, (int, float)):
            raise ScenarioError(f"measure {n}: a floor_all_in rule needs one scalar rate")
        for what in ("partner_scale", "product_scale"):
            for key, v in dict(getattr(self, what)).items():
                if not 0.0 <= float(v) <= 1.0:
                    raise ScenarioError(f"measure {n}: {what}[{key}] = {v} outside [0, 1]")
        if self.end_reason not in END_REASONS:
            raise ScenarioError(f"measure {n}: unknown end_reason {self.end_reason!r}; known: "
                                f"{', '.join(r for r in END_REASONS if r)}")
        if self.suspended_from is not None and self.suspended_from > self.start:
            raise ScenarioError(f"measure {n}: suspended_from {self.suspended_from} is after its start {self.start}")
        for what, codes in (("products", self.products), ("exclude_products", self.exclude_products),
                            ("usmca_exclude_products", self.usmca_exclude_products),
                            ("product_scale", tuple(self.product_scale))):
            for code in codes:
                if code == "all" or code.startswith("list:"):
                    continue
                if not _HS.match(code):
                    raise ScenarioError(f"measure {n}: {what} entry {code!r} is not an HS code of 2-10 digits")
        keys = list(self.partners) + list(self.exclude_partners) + list(self.partner_scale)
        keys += list(self.rate) if isinstance(self.rate, Mapping) else []
        for code in keys:
            if code not in ("all", "EU") and not _ISO.match(code):
                raise ScenarioError(f"measure {n}: partner {code!r} is not an ISO3 code, EU or all")

    def active(self, d: date) -> bool:
        """In force on ``d`` (start <= d <= end)."""
        return self.start <= d and (self.end is None or d <= self.end)

    def status(self, d: date, today: date) -> str:
        """Legal status on ``d`` seen from ``today``: ``in_force``, ``scheduled`` (in force on a date after
        ``today``, or starting after ``d``), ``suspended``, ``ended`` or ``struck_down``."""
        if self.end is not None and d > self.end:
            return "struck_down" if self.end_reason == "struck_down" else "ended"
        if d < self.start:
            return "suspended" if self.suspended_from is not None and d >= self.suspended_from else "scheduled"
        return "scheduled" if d > today else "in_force"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Measure":
        """Build from a YAML/JSON mapping (dates as ISO strings; lists for scopes).

        ``specific_usd`` with ``unit_value_usd`` gives ``rate = specific_usd / unit_value_usd`` (an AVE).
        """
        if not isinstance(d, Mapping):
            raise ScenarioError(f"measure: expected a mapping, got {type(d).__name__}")
        d = dict(d)
        name = str(d.get("name", "")).strip() or "<unnamed>"
        known = {f.name for f in fields(cls)} | {"specific_usd", "unit_value_usd"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ScenarioError(f"measure {name}: unknown field(s) {', '.join(unknown)}")
        for req in ("name", "layer", "start"):
            if req not in d:
                raise ScenarioError(f"measure {name}: missing field {req!r}")
        if "specific_usd" in d:
            uv = d.pop("unit_value_usd", None)
            sp = d.pop("specific_usd")
            if not isinstance(uv, (int, float)) or uv <= 0:
                raise ScenarioError(f"measure {name}: specific_usd needs a positive unit_value_usd to give an AVE")
            if "rate" in d:
                raise ScenarioError(f"measure {name}: give either rate or specific_usd, not both")
            d["rate"] = float(sp) / float(uv)
        elif "rate" not in d:
            raise ScenarioError(f"measure {name}: missing field 'rate'")
        d["start"] = as_date(d["start"], f"measure {name}: start")
        for k in ("end", "suspended_from"):
            if d.get(k) is not None:
                d[k] = as_date(d[k], f"measure {name}: {k}")
        for k in ("products", "partners", "exclude_products", "exclude_partners", "usmca_exclude_products",
                  "replaces"):
            if k in d:
                v = d[k]
                v = [v] if isinstance(v, (str, int)) else v
                if not isinstance(v, (list, tuple)):
                    raise ScenarioError(f"measure {name}: {k} must be a list")
                d[k] = tuple(str(x) for x in v)
        r = d["rate"]
        if isinstance(r, Mapping):
            d["rate"] = {str(k): _num(v, name) for k, v in r.items()}
        elif r is not None:
            d["rate"] = _num(r, name)
        for k in ("partner_scale", "product_scale"):
            if k in d:
                if not isinstance(d[k], Mapping):
                    raise ScenarioError(f"measure {name}: {k} must be a mapping")
                d[k] = {str(c): _num(v, name) for c, v in dict(d[k]).items()}
        return cls(**d)


def _num(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ScenarioError(f"measure {name}: rate {v!r} is not a number")
    return float(v)


__all__ = ["Measure", "LAYERS", "RULES", "BASES", "AUTHORITY", "AUTHORITIES"]
