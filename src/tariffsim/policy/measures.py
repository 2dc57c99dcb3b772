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

Layers (stacking classes, DESIGN §6 and ``us_tariff_actions_2025/stacking_rules.md`` §1):

========================  ================================================================================
``mfn``                   replaces the applied column-1 rate where it applies (e.g. a negotiated cut)
``s232``                  Section 232; several programmes on one product: the highest applies
``ieepa_reciprocal``      IEEPA reciprocal (EO 14257 and successors); not on 232 goods, not on exempt lists
``ieepa_fentanyl``        IEEPA fentanyl/border (EO 14193-14195); stacks on reciprocal
``s301``                  Section 301 (China); overlapping lists: the highest applies
``other``                 any other additional duty (IEEPA Brazil/India, Section 201, user measures)
========================  ================================================================================

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

LAYERS = ("mfn", "s232", "ieepa_reciprocal", "ieepa_fentanyl", "s301", "other")
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
    partner_scale : ``{ISO3: share}`` share of trade actually subject (e.g. non-USMCA-qualifying share).
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
    partner_scale: Mapping[str, float] = field(default_factory=dict)
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
        for key, v in dict(self.partner_scale).items():
            if not 0.0 <= float(v) <= 1.0:
                raise ScenarioError(f"measure {n}: partner_scale[{key}] = {v} outside [0, 1]")
        for what in ("products", "exclude_products"):
            for code in getattr(self, what):
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
        if d.get("end") is not None:
            d["end"] = as_date(d["end"], f"measure {name}: end")
        for k in ("products", "partners", "exclude_products", "exclude_partners", "replaces"):
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
        if "partner_scale" in d:
            d["partner_scale"] = {str(k): _num(v, name) for k, v in dict(d["partner_scale"]).items()}
        return cls(**d)


def _num(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ScenarioError(f"measure {name}: rate {v!r} is not a number")
    return float(v)


__all__ = ["Measure", "LAYERS", "RULES", "BASES"]
