"""Product-level trade elasticities with an explicit fallback chain.

For each HS code the lookup tries, in order:

1. user overrides (longest matching prefix first: an override for ``"87"`` covers all of
   chapter 87 unless ``"8703"`` is also given);
2. the bundled estimates at ``hs10`` (sigma only), ``hs6``, ``hs4`` and ``hs2`` (medians of
   the finer published estimates over the codes sharing the prefix);
3. the documented default (``defaults`` table: global median of the published estimates),
   or an error when ``default=None``.

Bundled sigma values (not user overrides) are then capped at :func:`sigma_cap` (the 90th
percentile of the Broda-Weinstein HTS10 estimates, 25.0) unless ``sigma_cap=None``; the
level of a capped code reads ``"<level>+cap"``. Why: the Broda-Weinstein (2006) HTS10
estimates come from the Feenstra (1994) GMM estimator (with a grid search where it fails)
and carry no standard errors; their right tail is long (median 3.14, 99th percentile 131,
maximum 16,049), and Soderbery (2015, JIE 96(1)) shows that this estimator's small-sample
bias inflates exactly such large values. In CES a sigma of 120 turns a 15% relative price
advantage into a 1.15**120 = 2e7-fold quantity ratio, so one source takes over a product
market; capping at the top decile keeps 90% of the estimates as published and the capped
ones still among the most elastic goods. Without standard errors a shrinkage estimator
(point estimate pulled toward the HS4 median in proportion to its sampling variance)
cannot be built from these data; the cap is the documented substitute.

The level used is reported for every code, and an :class:`ElasticityFallbackWarning`
summarises how many codes fell back to a coarser level or to the default.

Parameters
----------
- ``sigma``: elasticity of substitution between sources of one product, Broda & Weinstein
  (2006, QJE 121(2)) US HTS10 estimates, 1990-2001.
- ``epsilon``: absolute import demand elasticity of one product, Hauk (2012, Empirical
  Economics) US HS6 estimates kept where positive and significant at 5%.

Data built by ``scripts/builders/elasticities.py`` from ``../shared/data/elasticities``.

Examples
--------
>>> from tariffsim.data.elasticities import lookup
>>> t = lookup(["8703230190"], "sigma", overrides={"87": 4.0})
>>> t.row(0)
('8703230190', 4.0, 'override:87')
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Literal

import polars as pl

from ..errors import DataError, ElasticityFallbackWarning
from .catalog import read_table

Parameter = Literal["sigma", "epsilon"]
_LEVELS: dict[str, tuple[int, ...]] = {"sigma": (10, 6, 4, 2), "epsilon": (6, 4, 2)}


@lru_cache(maxsize=4)
def _table(parameter: str) -> pl.DataFrame:
    return read_table("elasticities", f"{parameter}_lookup").select("level", "code", pl.col(parameter).alias("value"))


SIGMA_CAP_QUANTILE = 0.9
"""Quantile of the Broda-Weinstein HTS10 sigma distribution used as the default cap."""


@lru_cache(maxsize=1)
def sigma_cap() -> float:
    """Default upper bound on bundled sigma: the 90th percentile of the 13,971 BW HTS10 estimates.

    >>> round(sigma_cap(), 2)
    25.03
    """
    hs10 = _table("sigma").filter(pl.col("level") == "hs10")["value"]
    return float(hs10.quantile(SIGMA_CAP_QUANTILE, interpolation="linear"))


@lru_cache(maxsize=2)
def default_value(parameter: Parameter) -> float:
    """The documented last-resort value of ``parameter`` (see the ``defaults`` table)."""
    _check_parameter(parameter)
    d = read_table("elasticities", "defaults").filter(pl.col("parameter") == parameter)
    return float(d["value"][0])


def _check_parameter(parameter: str) -> None:
    if parameter not in _LEVELS:
        raise DataError(f"unknown elasticity parameter {parameter!r}; known: sigma, epsilon")


def _overrides_frame(overrides: Mapping[str, float] | pl.DataFrame | None, parameter: str) -> pl.DataFrame:
    if overrides is None:
        return pl.DataFrame(schema={"code": pl.Utf8, "value": pl.Float64})
    if isinstance(overrides, Mapping):
        df = pl.DataFrame({"code": [str(k) for k in overrides], "value": [float(v) for v in overrides.values()]},
                          schema={"code": pl.Utf8, "value": pl.Float64})
    else:
        df = overrides if isinstance(overrides, pl.DataFrame) else pl.from_pandas(overrides)
        col = parameter if parameter in df.columns else "value"
        if "code" not in df.columns or col not in df.columns:
            raise DataError(f"{parameter} overrides: need columns 'code' and '{parameter}' (or 'value')")
        df = df.select(pl.col("code").cast(pl.Utf8), pl.col(col).cast(pl.Float64).alias("value"))
    bad = df.filter(~(pl.col("value") > 0) | pl.col("value").is_null() | pl.col("value").is_infinite())
    if bad.height:
        raise DataError(f"{parameter} override for code {bad['code'][0]!r} must be a finite positive number, "
                        f"got {bad['value'][0]}")
    nondigit = df.filter(~pl.col("code").str.contains(r"^[0-9]{1,10}$"))
    if nondigit.height:
        raise DataError(f"{parameter} override code {nondigit['code'][0]!r} is not an HS prefix of 1-10 digits")
    return df


def lookup(codes: Iterable[str] | pl.Series, parameter: Parameter, *,
           overrides: Mapping[str, float] | pl.DataFrame | None = None,
           default: float | Literal["documented"] | None = "documented",
           warn: bool = True, cap: float | Literal["documented"] | None = None) -> pl.DataFrame:
    """Elasticity for each HS code, with the fallback chain of this module.

    Parameters
    ----------
    codes : HS codes as zero-padded digit strings (2 to 10 digits).
    parameter : ``"sigma"`` or ``"epsilon"``.
    overrides : ``{code_prefix: value}`` or a table with ``code`` and ``<parameter>``
        (or ``value``) columns; takes precedence over the data, longest prefix first.
    default : value for codes with no match at any level: ``"documented"`` (the
        bundled ``defaults`` table), a number, or ``None`` to raise :class:`DataError`.
    warn : emit one :class:`ElasticityFallbackWarning` summarising the fallbacks.
    cap : upper bound applied to values from the bundled data (not to overrides):
        ``None`` (default here: published values), ``"documented"`` (:func:`sigma_cap`,
        sigma only) or a number. Capped codes get level ``"<level>+cap"``.

    Returns
    -------
    polars.DataFrame with columns ``code``, ``<parameter>``, ``level`` (``override:<prefix>``,
    ``hs10``, ``hs6``, ``hs4``, ``hs2`` or ``default``), one row per distinct input code,
    in first-seen order.
    """
    _check_parameter(parameter)
    s = codes if isinstance(codes, pl.Series) else pl.Series("code", list(codes), dtype=pl.Utf8)
    if s.dtype != pl.Utf8:
        raise DataError(f"{parameter} lookup: HS codes must be zero-padded strings, got dtype {s.dtype}")
    df = pl.DataFrame({"code": s}).unique(maintain_order=True)
    if df["code"].null_count():
        raise DataError(f"{parameter} lookup: null HS code")
    bad = df.filter(~pl.col("code").str.contains(r"^[0-9]{2,10}$"))
    if bad.height:
        raise DataError(f"{parameter} lookup: code {bad['code'][0]!r} is not an HS code of 2-10 digits")

    value = pl.lit(None, dtype=pl.Float64)
    level = pl.lit(None, dtype=pl.Utf8)
    ov = _overrides_frame(overrides, parameter)
    out = df
    # overrides: longest prefix first
    for n in sorted(set(ov["code"].str.len_chars().to_list()), reverse=True):
        part = ov.filter(pl.col("code").str.len_chars() == n).rename({"code": f"_ovk{n}", "value": f"_ov{n}"})
        out = out.with_columns(pl.when(pl.col("code").str.len_chars() >= n).then(pl.col("code").str.slice(0, n))
                               .alias(f"_ovk{n}")).join(part, on=f"_ovk{n}", how="left")
        value = pl.coalesce(value, pl.col(f"_ov{n}"))
        level = pl.coalesce(level, pl.when(pl.col(f"_ov{n}").is_not_null()).then(pl.lit("override:") + pl.col(f"_ovk{n}")))
    tab = _table(parameter)
    for n in _LEVELS[parameter]:
        part = tab.filter(pl.col("level") == f"hs{n}").select(pl.col("code").alias(f"_k{n}"), pl.col("value").alias(f"_v{n}"))
        out = out.with_columns(pl.when(pl.col("code").str.len_chars() >= n).then(pl.col("code").str.slice(0, n))
                               .alias(f"_k{n}")).join(part, on=f"_k{n}", how="left")
        value = pl.coalesce(value, pl.col(f"_v{n}"))
        level = pl.coalesce(level, pl.when(pl.col(f"_v{n}").is_not_null()).then(pl.lit(f"hs{n}")))
    out = out.select("code", value.alias(parameter), level.alias("level"))

    missing = out.filter(pl.col(parameter).is_null())
    if missing.height:
        if default is None:
            raise DataError(f"no {parameter} for HS code {missing['code'][0]!r} "
                            f"({missing.height} codes without estimate or fallback; pass default= or overrides=)")
        dval = default_value(parameter) if default == "documented" else float(default)
        if not dval > 0:
            raise DataError(f"default {parameter} must be positive, got {dval}")
        out = out.with_columns(
            pl.col(parameter).fill_null(dval),
            pl.col("level").fill_null(pl.lit("default")))
    if cap is not None:
        if cap == "documented":
            if parameter != "sigma":
                raise DataError(f"no documented cap for {parameter}; pass a number")
            cval = sigma_cap()
        else:
            cval = float(cap)  # type: ignore[arg-type]
            if not cval > 0:
                raise DataError(f"{parameter} cap must be positive, got {cap}")
        hit = ~pl.col("level").str.starts_with("override:") & (pl.col(parameter) > cval)
        out = out.with_columns(pl.when(hit).then(pl.lit(cval)).otherwise(pl.col(parameter)).alias(parameter),
                               pl.when(hit).then(pl.col("level") + "+cap").otherwise(pl.col("level")).alias("level"))
    if warn:
        _warn_fallbacks(out, parameter)
    return out


def _warn_fallbacks(out: pl.DataFrame, parameter: str) -> None:
    finest = f"hs{_LEVELS[parameter][0]}"
    counts = out.with_columns(pl.col("level").str.replace(r"\+cap$", "")).group_by("level").len().filter(
        ~pl.col("level").str.starts_with("override:") & (pl.col("level") != finest))
    if counts.height:
        parts = ", ".join(f"{lv}: {n}" for lv, n in sorted(counts.iter_rows()))
        warnings.warn(f"{parameter}: {int(counts['len'].sum())} of {out.height} codes used a coarser level or the "
                      f"default ({parts})", ElasticityFallbackWarning, stacklevel=3)


def product_elasticities(codes: Iterable[str] | pl.Series, *,
                         sigma: float | Mapping[str, float] | pl.DataFrame | None = None,
                         epsilon: float | Mapping[str, float] | pl.DataFrame | None = None,
                         default: float | Literal["documented"] | None = "documented",
                         warn: bool = True,
                         sigma_cap: float | Literal["documented"] | None = "documented") -> pl.DataFrame:
    """``product, sigma, epsilon, sigma_level, epsilon_level`` for each distinct code.

    ``sigma`` / ``epsilon``: ``None`` uses the bundled estimates with fallback; a number
    sets one value for all products; a mapping or table gives prefix overrides (see
    :func:`lookup`). ``sigma_cap``: bound on bundled sigma values (``"documented"`` =
    :func:`sigma_cap`, the BW 90th percentile; ``None`` = published values uncapped).
    """
    cols = {}
    for name, spec in (("sigma", sigma), ("epsilon", epsilon)):
        if isinstance(spec, (int, float)):
            if not spec > 0:
                raise DataError(f"{name} must be positive, got {spec}")
            u = codes if isinstance(codes, pl.Series) else pl.Series("code", list(codes), dtype=pl.Utf8)
            t = pl.DataFrame({"code": u}).unique(maintain_order=True).with_columns(
                pl.lit(float(spec)).alias(name), pl.lit("user").alias("level"))
        else:
            t = lookup(codes, name, overrides=spec, default=default, warn=warn,  # type: ignore[arg-type]
                       cap=sigma_cap if name == "sigma" else None)
        cols[name] = t.rename({"level": f"{name}_level"})
    return (cols["sigma"].rename({"code": "product"})
            .join(cols["epsilon"].rename({"code": "product"}), on="product", how="left", maintain_order="left")
            .select("product", "sigma", "epsilon", "sigma_level", "epsilon_level"))


__all__ = ["lookup", "product_elasticities", "default_value", "sigma_cap", "SIGMA_CAP_QUANTILE"]
