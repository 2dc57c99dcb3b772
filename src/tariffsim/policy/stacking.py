"""The stacking engine: ordered measures -> tariff rate per (hs10, partner) on one date, set-wise.

Total rate (``us_tariff_actions_2025/stacking_rules.md`` §1-2)::

    tariff = mfn + s232 + ieepa_reciprocal + ieepa_fentanyl + ieepa_country + s122 + s301 + s301_fl
             + s301_brazil + s338 + s201 + other

(2026 layers: ``us_tariff_actions_2026/stacking_rules_2026.md``; chapter 98 and 9999.95: :func:`ch98_factor`.)

- ``mfn``: applied column-1 rate of 2024 (see :mod:`tariffsim.policy._data`), replaced where an ``mfn`` measure
  applies.
- ``s232``: the highest applicable Section 232 duty, each on its basis (full value, or metal content for
  derivatives and copper — Proclamations 10895/10896 (derivatives), copper proclamation of 2025-07-30, US note
  36(b)). The *covered share* c of a product is 1 for full-value programmes and the metal share for content-basis
  ones.
- Measures with ``stacks_on_232 = False`` apply to the uncovered share only: ``rate × (1 − c)``. The IEEPA
  reciprocal tariff excludes 232 goods (EO 14257 §3(b); HTS 9903.01.33 carve-out) and, for derivatives, applies to
  the non-metal value (Budget Lab methodology, step 5).
- ``excluded_by_232`` measures (forced-labor and Brazil 301, Section 338) skip any article in the scope of a 232
  programme in force, even at 0% (notes 50(a)(vi), 51(c), 52(f)); ``usmca_exempt`` ones scale CA/MX rows by
  ``1 - usmca_share`` of the schedule's convention.
- Within a layer, a measure listed in another's ``replaces`` gives way where both apply; otherwise ``s232`` and
  ``s301`` take the highest rate (overlapping 301 lists: the highest, Budget Lab) and every other layer requires the
  overlapping measures to agree: different rates on the same (hs10, partner, date) raise :class:`ScenarioError`
  naming both measures.

Work is vectorised: each measure resolves its product scope on the ~19k unique HS10 codes and its partner scope on
the ~220 partners, then gathers onto the ~1.9M rows with numpy fancy indexing (no Python loop over rows).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
import polars as pl

from ..errors import ScenarioError
from ._data import EU27, Base, base, known_hs_code, list_names, metal_shares, product_lists
from .measures import LAYERS, Measure

MAX_LAYERS = ("s232", "s301")
OUT_COLUMNS = {"mfn": "mfn_rate", "s232": "s232_rate", "ieepa_reciprocal": "ieepa_rate",
               "ieepa_fentanyl": "fentanyl_rate", "ieepa_country": "ieepa_country_rate", "s122": "s122_rate",
               "s301": "s301_rate", "s301_fl": "s301_fl_rate", "s301_brazil": "s301_brazil_rate",
               "s338": "s338_rate", "s201": "s201_rate", "other": "other_rate"}


def _list_entries(name: str, d: date, measure: str) -> pl.DataFrame:
    if name not in list_names():
        raise ScenarioError(f"measure {measure}: unknown product list {name!r}; known: {', '.join(sorted(list_names()))}")
    pl_ = product_lists()
    return pl_.filter((pl.col("list") == name)
                      & (pl.col("effective_date").is_null() | (pl.col("effective_date") <= d)))


@lru_cache(maxsize=1)
def _list_dates() -> dict[str, tuple[date, ...]]:
    """Distinct entry effective dates per product list (a list's content changes only on these dates)."""
    t = product_lists().filter(pl.col("effective_date").is_not_null()).group_by("list").agg(
        pl.col("effective_date").unique().sort())
    return {k: tuple(v) for k, v in zip(t["list"], t["effective_date"])}


def _list_key(name: str, d: date) -> date | None:
    ds = [x for x in _list_dates().get(name, ()) if x <= d]
    return max(ds) if ds else None


@lru_cache(maxsize=256)
def _list_match(name: str, key: date | None, measure: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, highest entry rate or NaN, metal of the longest matching entry) over ``base().hs10_codes``."""
    b = base()
    n = len(b.hs10_codes)
    mask = np.zeros(n, dtype=bool)
    rate = np.full(n, np.nan)
    metal = np.full(n, None, dtype=object)
    metal_len = np.zeros(n, dtype=np.int8)
    ent = _list_entries(name, key or date.min, measure)
    for L in sorted(set(ent["hts_code"].str.len_chars().to_list())):
        if L not in b.prefixes:
            continue
        e = ent.filter(pl.col("hts_code").str.len_chars() == L).group_by("hts_code").agg(
            pl.col("rate").max(), pl.col("metal").first())
        pref = pl.DataFrame({"hts_code": b.prefixes[L], "i": np.arange(n)})
        j = pref.join(e, on="hts_code", how="inner")
        if j.height == 0:
            continue
        idx = j["i"].to_numpy()
        mask[idx] = True
        rate[idx] = np.fmax(rate[idx], j["rate"].cast(pl.Float64).fill_null(np.nan).to_numpy())
        has = j["metal"].is_not_null().to_numpy()
        longer = has & (metal_len[idx] < L)
        metal[idx[longer]] = np.array(j["metal"].to_list(), dtype=object)[longer]
        metal_len[idx[longer]] = L
    for a in (mask, rate, metal):
        a.flags.writeable = False
    return mask, rate, metal


def _resolve_products(b: Base, codes: Sequence[str], d: date, measure: str, want_rates: bool = False
                      ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(mask over hs10_codes, per-code list rate or None, per-code list metal or None).

    Rates and metals come from product-list entries; several matching entries: highest rate, longest prefix metal.
    """
    n = len(b.hs10_codes)
    mask = np.zeros(n, dtype=bool)
    rate = np.full(n, np.nan) if want_rates else None
    metal = np.full(n, None, dtype=object)
    for code in codes:
        if code == "all":
            mask[:] = True
        elif code.startswith("list:"):
            name = code[5:]
            if name not in list_names():
                raise ScenarioError(f"measure {measure}: unknown product list {name!r}; "
                                    f"known: {', '.join(sorted(list_names()))}")
            lm, lr, lmet = _list_match(name, _list_key(name, d), measure)
            mask |= lm
            if want_rates:
                rate = np.fmax(rate, lr)
            sel = lmet != None  # noqa: E711 - elementwise on an object array
            metal[sel] = lmet[sel]
        else:
            if not known_hs_code(code):
                raise ScenarioError(f"measure {measure}: unknown HS code {code!r} (not in HTS 2025)")
            mask |= b.prefixes[len(code)] == code
    return mask, rate, metal


def _csr(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable").astype(np.int64)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return order, ptr


@lru_cache(maxsize=1)
def _index() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Row indices grouped by HS10 and by partner (CSR), to touch only the rows a measure covers."""
    b = base()
    return _csr(b.h_idx, len(b.hs10_codes)), _csr(b.p_idx, len(b.partners))


def _expand(order: np.ndarray, ptr: np.ndarray, sel: np.ndarray) -> np.ndarray:
    starts, lens = ptr[sel], ptr[sel + 1] - ptr[sel]
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
    return order[offs + np.arange(total)]


def _rows(b: Base, hmask: np.ndarray, pmask: np.ndarray) -> np.ndarray:
    (ho, hp), (po, pp) = _index()
    hsel, psel = np.nonzero(hmask)[0], np.nonzero(pmask)[0]
    nh = int((hp[hsel + 1] - hp[hsel]).sum())
    npr = int((pp[psel + 1] - pp[psel]).sum())
    if nh <= npr:
        r = _expand(ho, hp, hsel)
        return r[pmask[b.p_idx[r]]]
    r = _expand(po, pp, psel)
    return r[hmask[b.h_idx[r]]]


def _resolve_partners(b: Base, codes: Sequence[str], measure: str, strict: bool) -> np.ndarray:
    out = np.zeros(len(b.partners), dtype=bool)
    pos = {c: i for i, c in enumerate(b.partners)}
    for c in codes:
        if c == "all":
            out[:] = True
        elif c == "EU":
            out[[pos[m] for m in EU27 if m in pos]] = True
        elif c in pos:
            out[pos[c]] = True
        elif strict:
            raise ScenarioError(f"measure {measure}: unknown partner {c!r} (no 2024 US imports from it)")
    return out


def _partner_values(b: Base, mapping: Mapping[str, float], default: float) -> np.ndarray:
    out = np.full(len(b.partners), float(mapping.get("all", default)), dtype=np.float64)
    pos = {c: i for i, c in enumerate(b.partners)}
    for k, v in mapping.items():
        if k == "EU":
            for m in EU27:
                if m in pos and m not in mapping:
                    out[pos[m]] = v
        elif k in pos:
            out[pos[k]] = v
    return out


#: Layers that chapter 98 and Census line 9999.95 do not pay (see :func:`ch98_factor`).
CH98_LAYERS = ("ieepa_reciprocal", "ieepa_fentanyl", "ieepa_country", "s122", "s301", "s301_fl", "s301_brazil",
               "s338", "s201")
#: Chapter 98 provisions that keep the additional duties, on the share of customs value that is dutiable: the
#: repair / alteration / processing value of 9802.00.40/.50/.60 (Budget Lab ``ch98_value_basis``: about 1/10 of
#: the entered value) and the assembled-abroad value of 9802.00.80 (Budget Lab keeps 1.0).
CH98_DUTIABLE = {"98020040": 0.10, "98020050": 0.10, "98020060": 0.10, "98020080": 1.0}


@lru_cache(maxsize=1)
def ch98_factor() -> np.ndarray:
    """Share of an HS10 line's value that pays Chapter 99 additional duties (aligned with ``base().hs10_codes``).

    Chapter 98 (US goods returned, 9801; temporary and special entries) is carved out of every IEEPA, Section 122
    and Section 301 heading by the standard chapter-98 paragraph of each note (e.g. U.S. note 2(v)(i) to subchapter
    III of ch. 99 for EO 14257; notes 50-52 for the 2026 Section 301 actions; KN R13), except 9802.00.40/.50/.60/.80,
    which pay on the dutiable value (:data:`CH98_DUTIABLE`). Census statistical code 9999.95 (estimated low-valued
    shipments) is not an HTS provision: no duty is assessed on it. Section 232 and MFN are not affected.
    """
    codes = base().hs10_codes
    out = np.ones(len(codes))
    for i, c in enumerate(codes):
        if c.startswith("98"):
            out[i] = CH98_DUTIABLE.get(c[:8], 0.0)
        elif c.startswith("9999"):
            out[i] = 0.0
    out.flags.writeable = False
    return out


def _measure_base(b: Base, m: Measure, d: date, usmca: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows a measure covers on ``d``, its duty before the floor and 232 rules, and its basis share.

    For ``floor_all_in`` measures the returned duty is the scale (partner/product/USMCA shares) the top-up is
    multiplied by.
    """
    pmask = _resolve_partners(b, m.partners, m.name, strict=True)
    if m.exclude_partners:
        pmask &= ~_resolve_partners(b, m.exclude_partners, m.name, strict=False)
    if isinstance(m.rate, Mapping):
        prate = _partner_values(b, m.rate, np.nan)
        pmask &= ~np.isnan(prate)
    hmask, hrate, hmetal = _resolve_products(b, m.products, d, m.name, want_rates=m.rate is None)
    if m.exclude_products:
        hmask &= ~_resolve_products(b, m.exclude_products, d, m.name)[0]
    if hrate is not None:
        hmask &= ~np.isnan(hrate)
    rows = _rows(b, hmask, pmask)
    h, p = b.h_idx[rows], b.p_idx[rows]
    if m.rule == "floor_all_in":
        r = np.ones(rows.size)
    elif isinstance(m.rate, Mapping):
        r = prate[p]
    elif m.rate is None:
        r = hrate[h]
    else:
        r = np.full(rows.size, float(m.rate))
    if m.basis == "full":
        share = np.ones(rows.size)
    elif m.basis == "list":
        ms = metal_shares()
        share = np.ones(rows.size)
        met = hmetal[h]
        for kind in ("steel", "aluminum", "copper"):
            sel = met == kind
            share[sel] = ms[kind][h[sel]]
    else:
        share = metal_shares()[m.basis][h]
    r = r * share
    if m.partner_scale:
        r = r * _partner_values(b, m.partner_scale, 1.0)[p]
    if m.product_scale:
        scale = np.ones(len(b.hs10_codes))
        for code, v in m.product_scale.items():
            scale[_resolve_products(b, (code,), d, m.name)[0]] = v
        r = r * scale[h]
    if m.usmca_exempt and usmca is not None:
        u = usmca[rows]
        if m.usmca_exclude_products:
            u = np.where(_resolve_products(b, m.usmca_exclude_products, d, m.name)[0][h], 0.0, u)
        r = r * (1.0 - u)
    if m.layer in CH98_LAYERS:
        r = r * ch98_factor()[h]
    return rows, r, share


def _list_signature(m: Measure, d: date) -> tuple:
    """The product-list content dates a measure's scope depends on (its scope changes only when these do)."""
    codes = [c for c in (*m.products, *m.exclude_products, *m.usmca_exclude_products, *m.product_scale)
             if c.startswith("list:")]
    return tuple(_list_key(c[5:], d) for c in codes)


class MeasureCache:
    """Per-measure rows and duties, reused across dates while a measure's product lists do not change."""

    def __init__(self, usmca: np.ndarray | None = None, mfn: np.ndarray | None = None) -> None:
        self.usmca = usmca
        self.mfn = mfn
        self._store: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def get(self, b: Base, m: Measure, d: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = (id(m), _list_signature(m, d))
        hit = self._store.get(key)
        if hit is None:
            hit = self._store[key] = _measure_base(b, m, d, self.usmca)
        return hit


def stack(measures: Sequence[Measure], d: date, b: Base | None = None, *, usmca: np.ndarray | None = None,
          cache: MeasureCache | None = None) -> dict[str, np.ndarray]:
    """Layer arrays (aligned with ``base().table`` rows) for the measures in force on ``d``.

    Parameters
    ----------
    usmca : per-row USMCA claim share (0 outside Canada/Mexico) for ``usmca_exempt`` measures; None = no exemption.
    cache : reuse measure scopes across calls (:class:`MeasureCache`; its ``usmca`` is used, and its ``mfn`` per-row
        MFN rates replace ``Base.mfn_applied`` where given: the convention's MFN measurement).

    Returns ``{layer: rates}`` for every layer in :data:`LAYERS` plus ``"s232_cover"`` (232-covered share),
    ``"s232_scope"`` (1 where an article is in the scope of a Section 232 programme in force) and ``"tariff"``
    (the sum of the layers).
    """
    b = base() if b is None else b
    cache = cache if cache is not None else MeasureCache(usmca)
    n = b.value_usd.size
    zero = np.zeros(n)
    zero.flags.writeable = False  # shared by the layers without a measure in force
    layers = {L: zero for L in LAYERS}
    layers["mfn"] = (b.mfn_applied if cache.mfn is None else cache.mfn).copy()
    cover = np.zeros(n)
    scope = np.zeros(n, dtype=bool)
    by_layer: dict[str, list[int]] = {}
    for k, m in enumerate(measures):
        if m.active(d):
            by_layer.setdefault(m.layer, []).append(k)
    for L in LAYERS:
        if L not in by_layer:
            continue
        if layers[L] is zero:
            layers[L] = np.zeros(n)
        owner = np.full(n, -1, dtype=np.int32)
        for k in by_layer[L]:
            m = measures[k]
            rows, r, share = cache.get(b, m, d)
            if rows.size == 0:
                continue
            if m.rule == "floor_all_in":
                mfn = layers["mfn"][rows]
                r = r * np.where(b.mfn_general[rows] < m.rate, np.maximum(float(m.rate) - mfn, 0.0), 0.0)
            if m.layer != "s232" and not m.stacks_on_232:
                r = r * (1.0 - cover[rows])
            if m.excluded_by_232:
                r = np.where(scope[rows], 0.0, r)
            cur = owner[rows]
            take = cur == -1
            is232 = L == "s232"  # the covered share and its overlaps matter for the 232 layer only
            newcover, both = share, None
            if not take.all():  # rows another measure of this layer already holds
                held = layers[L][rows]
                if is232:
                    newcover, both = share.copy(), np.zeros(rows.size, dtype=bool)
                for o in np.unique(cur[~take]):
                    sel = cur == o
                    other = measures[o]
                    if other.name in m.replaces:
                        take |= sel
                    elif m.name in other.replaces:
                        continue
                    elif L in MAX_LAYERS:
                        take |= sel & (r > held)
                        if is232:
                            both |= sel
                            newcover[sel] = np.maximum(share[sel], cover[rows[sel]])
                    else:
                        diff = sel & ~np.isclose(r, held, rtol=0, atol=1e-12)
                        if diff.any():
                            i = rows[np.argmax(diff)]
                            raise ScenarioError(
                                f"measures {other.name} and {m.name} overlap with different rates on {d} "
                                f"(hs10 {b.hs10_codes[b.h_idx[i]]}, partner {b.partners[b.p_idx[i]]}): "
                                f"add one to the other's 'replaces' or narrow their scopes")
            tr = rows[take]
            layers[L][tr] = r[take]
            owner[tr] = k
            if is232:
                upd = take if both is None else take | both
                cover[rows[upd]] = newcover[upd]
                scope[rows] = True
    out = dict(layers)
    out["s232_cover"] = cover
    out["s232_scope"] = scope.astype(np.float64)
    total = layers["mfn"].copy()  # in-place adds: np.add.reduce over a list would first copy all layers into 2-D
    for L in LAYERS[1:]:
        if layers[L] is not zero:
            total += layers[L]
    out["tariff"] = total
    return out


def to_frame(arrays: Mapping[str, np.ndarray], b: Base | None = None, *, with_value: bool = False) -> pl.DataFrame:
    """Tidy table ``hs10, partner, tariff_rate`` and one ``<layer>_rate`` column per layer (:data:`OUT_COLUMNS`),
    plus ``value_usd`` if asked."""
    b = base() if b is None else b
    cols = {
        "hs10": pl.Series("hs10", b.hs10_codes).gather(b.h_idx),
        "partner": pl.Series("partner", list(b.partners)).gather(b.p_idx),
        "tariff_rate": arrays["tariff"],
    }
    for L, c in OUT_COLUMNS.items():
        cols[c] = arrays[L]
    if with_value:
        cols["value_usd"] = b.value_usd
    return pl.DataFrame(cols)


__all__ = ["stack", "to_frame", "OUT_COLUMNS", "MeasureCache", "ch98_factor", "CH98_LAYERS"]
