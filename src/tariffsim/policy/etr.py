"""Effective tariff rates (ETR): import-weighted average tariff rates of a schedule on one or more dates.

    ETR = sum_{h,p} w[h,p] * tariff[h,p] / sum_{h,p} w[h,p]

with weights ``w`` = 2024 customs value (pre-substitution, the convention of The Budget Lab at Yale's "State of
U.S. Tariffs" series; goods rows only, no chapter 98/99, under the schedule convention's ``weights="goods"``)
or the post-substitution imports supplied by a product-level model (``post_imports``).
Layer ETRs (``etr_mfn`` ... ``etr_other``) add up to ``etr``; with ``decompose="authority"`` the columns are the
legal authorities (``etr_mfn, etr_s232, etr_ieepa, etr_s122, etr_s301, etr_s338, etr_s201, etr_other``), which also
add up to ``etr``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np
import polars as pl

from ..errors import DataError, ScenarioError
from ._data import as_date, base
from .schedules import Schedule, as_schedule
from .measures import AUTHORITIES, AUTHORITY
from .stacking import OUT_COLUMNS

BY = (None, "partner", "hs2", "hs4", "hs6", "hs10")

PostImports = Callable[[pl.DataFrame], pl.DataFrame]


def etr(schedule_or_name: Schedule | str, date: Any | Sequence[Any], *, by: str | None = None,
        weights: str = "pre", post_imports: PostImports | None = None, base_schedule: Schedule | str = "baseline-2024",
        base_date: Any = "2024-12-31", partners: Iterable[str] | None = None, decompose: str = "layer"
        ) -> pl.DataFrame:
    """Import-weighted effective tariff rate(s) of a schedule.

    Parameters
    ----------
    schedule_or_name : a :class:`Schedule` or a built-in name (``tariffsim.policy.list_schedules()``).
    date : one date or a list of dates (ISO strings or ``datetime.date``).
    by : ``None`` (overall), ``"partner"``, ``"hs2"`` (HS chapter), ``"hs4"``, ``"hs6"`` or ``"hs10"``.
    weights : ``"pre"`` (2024 imports) or ``"post"`` (imports after substitution from ``post_imports``).
    post_imports : callable ``(rates) -> new imports`` where ``rates`` has columns ``hs10, partner,
        tariff_rate_old, tariff_rate_new, value_usd`` and the result ``hs10, partner, value_usd_new``
        (e.g. ``tariffsim.models.pe.post_substitution_imports``). Old rates are ``base_schedule`` at ``base_date``.
    partners : optional ISO3 codes to keep (``"EU"`` = the 27 members) before aggregating.
    decompose : ``"layer"`` (one column per stacking layer) or ``"authority"`` (MFN, S232, IEEPA, S122, S301,
        S338, S201, other).

    Returns
    -------
    polars.DataFrame ``date, [by], value_usd, etr`` and one ``etr_<layer>`` (or ``etr_<authority>``) column each
    (fractions); ``value_usd`` is the weight total.

    Examples
    --------
    >>> t = etr("japan-deal-2025-09", ["2024-12-31", "2025-09-16"], by="partner", partners=["JPN"])
    >>> t.select("date", "partner").rows()[0]
    (datetime.date(2024, 12, 31), 'JPN')
    """
    if by not in BY:
        raise ScenarioError(f"etr: by must be one of {', '.join(str(b) for b in BY)}; got {by!r}")
    if decompose not in ("layer", "authority"):
        raise ScenarioError(f"etr: decompose must be 'layer' or 'authority'; got {decompose!r}")
    if weights not in ("pre", "post"):
        raise ScenarioError(f"etr: weights must be 'pre' or 'post'; got {weights!r}")
    if weights == "post" and post_imports is None:
        raise ScenarioError("etr: weights='post' needs post_imports (e.g. tariffsim.models.pe.post_substitution_imports)")
    s = as_schedule(schedule_or_name)
    dates = [date] if not isinstance(date, (list, tuple)) else list(date)
    b = base()
    keep = _partner_rows(b, partners)
    old = None
    if weights == "post":
        old = as_schedule(base_schedule).arrays(as_date(base_date, "etr: base_date"))["tariff"]
    out = []
    for d in dates:
        dd = as_date(d, "etr: date")
        arr = s.arrays(dd)
        w = s.weights_usd
        if weights == "post":  # the model's imports, on the rows the convention weights (goods rows)
            w = np.where(s.weights_usd > 0, _post_weights(b, old, arr["tariff"], post_imports), 0.0)
        out.append(_aggregate(b, arr, w, keep, by, decompose).with_columns(pl.lit(dd).alias("date")))
    res = pl.concat(out)
    return res.select("date", *([by] if by else []), pl.exclude("date", *([by] if by else [])))


def _partner_rows(b: Any, partners: Iterable[str] | None) -> np.ndarray | None:
    if partners is None:
        return None
    from ._data import EU27

    want = [partners] if isinstance(partners, str) else list(partners)
    idx = []
    for c in want:
        if c == "EU":
            idx += [b.partners.index(m) for m in EU27 if m in b.partners]
        elif c in b.partners:
            idx.append(b.partners.index(c))
        else:
            raise ScenarioError(f"etr: unknown partner {c!r} (no 2024 US imports)")
    mask = np.zeros(len(b.partners), dtype=bool)
    mask[idx] = True
    return mask[b.p_idx]


def _post_weights(b: Any, old: np.ndarray, new: np.ndarray, post_imports: PostImports) -> np.ndarray:
    frame = pl.DataFrame({
        "hs10": pl.Series(b.hs10_codes).gather(b.h_idx), "partner": pl.Series(list(b.partners)).gather(b.p_idx),
        "tariff_rate_old": old, "tariff_rate_new": new, "value_usd": b.value_usd,
    })
    res = post_imports(frame)
    if not isinstance(res, pl.DataFrame) or not {"hs10", "partner", "value_usd_new"} <= set(res.columns):
        raise DataError("etr: post_imports must return a polars DataFrame with hs10, partner, value_usd_new")
    j = frame.select("hs10", "partner").with_row_index("row").join(
        res.select("hs10", "partner", pl.col("value_usd_new").cast(pl.Float64)), on=["hs10", "partner"], how="left")
    if j["value_usd_new"].null_count():
        i = j.filter(pl.col("value_usd_new").is_null()).row(0, named=True)
        raise DataError(f"etr: post_imports gave no value_usd_new for hs10 {i['hs10']}, partner {i['partner']}")
    w = np.zeros(b.value_usd.size)
    w[j["row"].to_numpy()] = j["value_usd_new"].to_numpy()
    if (w < 0).any():
        raise DataError("etr: post_imports returned negative imports")
    return w


def authority_arrays(arr: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Layer arrays summed by legal authority (:data:`~tariffsim.policy.measures.AUTHORITY`), keys lower case."""
    out = {a.lower(): np.zeros_like(arr["tariff"]) for a in AUTHORITIES}
    for L, a in AUTHORITY.items():
        out[a.lower()] = out[a.lower()] + arr[L]
    return out


def _aggregate(b: Any, arr: dict[str, np.ndarray], w: np.ndarray, keep: np.ndarray | None, by: str | None,
               decompose: str = "layer") -> pl.DataFrame:
    """Weighted means by group with ``np.bincount`` (one pass per column over the ~1.9M rows)."""
    parts = ({c.removesuffix("_rate"): arr[L] for L, c in OUT_COLUMNS.items()} if decompose == "layer"
             else authority_arrays(arr))
    if keep is not None:
        w = np.where(keep, w, 0.0)
    if by is None:
        gid, labels = np.zeros(w.size, dtype=np.int64), None
    elif by == "partner":
        gid, labels = b.p_idx, list(b.partners)
    else:
        labels_u, inv = np.unique(b.prefixes[int(by[2:])], return_inverse=True)
        gid, labels = inv[b.h_idx], labels_u.tolist()
    n = 1 if labels is None else len(labels)
    tot = np.bincount(gid, weights=w, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols = {"value_usd": tot, "etr": np.bincount(gid, weights=arr["tariff"] * w, minlength=n) / tot}
        for c, a in parts.items():
            cols["etr_" + c] = np.bincount(gid, weights=a * w, minlength=n) / tot
    g = pl.DataFrame(cols)
    if labels is None:
        return g
    # groups without weight (outside ``partners``, or chapters 98/99 under goods weights) have no ETR
    return g.with_columns(pl.Series(by, labels)).filter(pl.col("value_usd") > 0).select(by, *cols)


def etr_path(schedule_or_name: Schedule | str = "latest", dates: Sequence[Any] | None = None,
             partners: Sequence[str] = ("JPN",)) -> pl.DataFrame:
    """ETR overall and for ``partners`` on a list of dates (default: the 2025 milestones), one row per date."""
    dates = dates or MILESTONES
    tot = etr(schedule_or_name, dates).select("date", pl.col("etr").alias("etr_all"))
    for p in partners:
        t = etr(schedule_or_name, dates, partners=[p]).select("date", pl.col("etr").alias(f"etr_{p}"))
        tot = tot.join(t, on="date")
    return tot


#: policy milestones for ETR paths (legal effective dates, stacking_rules.md §6)
MILESTONES = ["2025-01-01", "2025-02-04", "2025-03-12", "2025-04-03", "2025-04-05", "2025-04-09", "2025-04-10",
              "2025-05-03", "2025-05-14", "2025-06-04", "2025-08-01", "2025-08-07", "2025-09-16", "2025-10-14",
              "2025-11-01", "2025-11-14", "2026-01-15", "2026-02-20", "2026-02-24", "2026-04-06", "2026-06-08",
              "2026-07-22", "2026-07-24", "2026-08-22", "2026-09-29", "2026-11-10", "2026-12-01"]

__all__ = ["etr", "etr_path", "MILESTONES"]
