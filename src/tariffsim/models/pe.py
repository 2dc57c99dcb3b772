"""Product-level partial equilibrium for one importer: exact CES, trade creation and diversion.

For each product ``h`` and source ``k`` the importer pays ``p_hk = (1 + t_hk) p*_hk``. Sources
are imperfect substitutes with a CES aggregator (elasticity ``sigma_h``) whose weights are the
base expenditure shares at tariff-inclusive prices ``s_hk = (1 + t0_hk) v_hk / sum_k (1 + t0) v``.
Total import quantity of the product responds to its CES price index with elasticity
``epsilon_h``, and each source supplies with constant export supply elasticity ``eta_hk``
(``p*_hat = q_hat ** (1 / eta)``; ``eta = inf``, the default, fixes world prices). In changes
(``x_hat = x_new / x_old``, base world prices normalised to 1):

    P_hat_h  = ( sum_k s_hk * p_hat_hk ** (1 - sigma_h) ) ** (1 / (1 - sigma_h))       (1)
    Q_hat_h  = P_hat_h ** -epsilon_h                                                (2)
    q_hat_hk = (p_hat_hk / P_hat_h) ** -sigma_h * Q_hat_h                           (3)
    p_hat_hk = tau_hat_hk * pstar_hat_hk,  tau_hat = (1 + t_new) / (1 + t_old)      (4)
    pstar_hat_hk = q_hat_hk ** (1 / eta_hk)                                         (5)

Substituting (3) into (5) gives the world-price change in closed form given ``y = ln P_hat``:

    ln pstar_hat_hk = ( -sigma ln tau_hat_hk + (sigma - epsilon) y ) / (eta_hk + sigma)   (6)

so the whole system reduces to one monotone scalar equation per product, (1) with (4) and
(6), solved exactly by a safeguarded Newton iteration vectorised over all products at once
(``F'(y) >= 1 - max_k (sigma - epsilon) / (eta_k + sigma) > 0``; a bracket is known in
closed form). With a common ``eta`` in a product the equation is linear in ``y`` and
``y = CESmean_k(ln tau_hat_hk * eta / (eta + sigma)) * (eta + sigma) / (eta + epsilon)``.

Outputs, exact:

- import value at world prices ``v_new = v * pstar_hat * q_hat`` and volume ``q_hat``;
- trade *diversion* ``V0_h (share_new_hk - share_old_hk)`` (sums to zero in each product)
  and trade *creation* ``share_new_hk (V1_h - V0_h)``: a shift-share split of the value
  change at world prices. To first order diversion equals SMART's trade diversion and total
  creation equals SMART's total trade creation (Jammes & Olarreaga 2005, eqs. 5 and 9);
  SMART attributes creation to the source whose tariff changed, CES spreads it over sources
  in proportion to their new shares;
- tariff revenue ``t * v``; consumer surplus change of the product's import composite
  ``-E0_h * int_1^P_hat x ** -epsilon dx``, allocated to sources with Tornqvist weights
  ``-(s0 + s1) / 2 * ln p_hat``; terms-of-trade gain ``v * q_hat * (1 - pstar_hat)``;
  deadweight loss ``tot_gain - (cs_change + revenue_change)``, so that the importer's net
  welfare change is ``cs_change + revenue_change = tot_gain - deadweight_loss``; exporters'
  producer surplus change ``v * (pstar_hat ** (1 + eta) - 1) / (1 + eta)``;
- pass-through of the tariff change to the importer's price ``(p_hat - 1) / (tau_hat - 1)``.

References
----------
Laird, S. and A. Yeats (1986), "The UNCTAD Trade Policy Simulation Model: A Note on the
Methodology, Data and Uses", UNCTAD Discussion Paper 19 (SMART; trade creation eq. with
finite export supply elasticity).
Jammes, O. and M. Olarreaga (2005), "Explaining SMART and GSIM", World Bank (SMART's
creation, diversion and welfare formulas).
Armington, P. (1969), IMF Staff Papers 16(1); exact hat algebra as in Dekle, Eaton and
Kortum (2007), AER P&P 97(2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import polars as pl

from ..errors import ConvergenceError, DataError, ScenarioError

INPUT_COLUMNS = ("product", "source", "value_usd", "tariff_old", "tariff_new")

GROWTH_LIMIT = 10.0
"""Default plausibility bound on a cell's growth factor (see :meth:`PEResult.plausibility`)."""
SHARE_LIMIT = 0.1
"""Default materiality bound of the ``exceeds_market`` rule: a tenth of the product's base imports."""

ElasticitySpec = float | int | Mapping[str, float] | pl.DataFrame | Any


# ----------------------------------------------------------------------------- result


@dataclass(frozen=True)
class PEResult:
    """Outcome of :func:`simulate`.

    Attributes
    ----------
    table : one row per input row (input order, input columns kept) plus
        ``sigma, epsilon, supply_elasticity, value_usd_new, quantity_hat, world_price_hat,
        consumer_price_hat, pass_through, expenditure_usd_old, expenditure_usd_new,
        tariff_revenue_old, tariff_revenue_new, creation_usd, diversion_usd, cs_change_usd,
        tot_gain_usd, deadweight_loss_usd, exporter_surplus_change_usd``. Money in USD.
    products : one row per product: ``price_index_hat`` (P_hat), ``quantity_hat`` (Q_hat),
        value, expenditure, revenue and welfare totals.
    iterations : Newton iterations used (0 when no tariff changed).
    residual : max |F(y)| over products at the solution (log price index units).
    options : the elasticities and settings, for the record.
    """

    table: pl.DataFrame
    products: pl.DataFrame
    iterations: int
    residual: float
    options: Mapping[str, Any] = field(default_factory=dict)

    _SUM_COLS = ("value_usd", "value_usd_new", "creation_usd", "diversion_usd", "tariff_revenue_old",
                 "tariff_revenue_new", "cs_change_usd", "tot_gain_usd", "deadweight_loss_usd",
                 "exporter_surplus_change_usd", "expenditure_usd_old", "expenditure_usd_new")

    def summary(self, by: str | Sequence[str] | None = "source", *, hs_digits: int | None = None) -> pl.DataFrame:
        """Totals by ``by`` (``"source"``, ``"product"``, both, or ``None`` for one row).

        ``hs_digits`` truncates product codes first (e.g. 4 for HS4 headings), so
        ``summary(["product", "source"], hs_digits=4)`` gives HS4 × source.
        Adds ``value_change_pct`` = 100 (value_usd_new / value_usd - 1).
        """
        keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
        for k in keys:
            if k not in self.table.columns:
                raise ScenarioError(f"summary: unknown grouping column {k!r}")
        t = self.table
        if hs_digits is not None:
            t = t.with_columns(pl.col("product").cast(pl.Utf8).str.slice(0, int(hs_digits)))
        aggs = [pl.col(c).sum() for c in self._SUM_COLS]
        out = t.group_by(keys, maintain_order=True).agg(aggs) if keys else t.select(aggs)
        out = out.with_columns(net_welfare_usd=pl.col("cs_change_usd") + pl.col("tariff_revenue_new")
                               - pl.col("tariff_revenue_old"),
                               value_change_pct=100 * (pl.col("value_usd_new") / pl.col("value_usd") - 1))
        return out.sort("value_usd", descending=True) if keys else out

    def totals(self) -> dict[str, float]:
        """The one-row summary as a dict."""
        return self.summary(None).row(0, named=True)

    def diversion(self, product_prefix: str, *, away_from: str | None = None) -> pl.DataFrame:
        """Who gains and who loses within products starting with ``product_prefix``.

        One row per source: base and new import value, creation and diversion (USD), and
        ``diversion_share``: diversion_usd divided by the diversion that ``away_from`` lost,
        when given (positive for gainers when ``away_from`` loses; -1 for ``away_from``
        itself when it gains instead).
        """
        t = self.table.filter(pl.col("product").cast(pl.Utf8).str.starts_with(product_prefix))
        if t.height == 0:
            raise ScenarioError(f"diversion: no product starts with {product_prefix!r}")
        out = t.group_by("source").agg(pl.col("value_usd", "value_usd_new", "creation_usd", "diversion_usd").sum())
        if away_from is not None:
            lost = -float(out.filter(pl.col("source") == away_from)["diversion_usd"].sum())
            out = out.with_columns(diversion_share=pl.col("diversion_usd") / lost if lost else pl.lit(float("nan")))
        return out.sort("diversion_usd", descending=True)

    def plausibility(self, *, growth_limit: float = GROWTH_LIMIT, share_limit: float = SHARE_LIMIT) -> pl.DataFrame:
        """Cells (product x source) whose predicted change is implausible, with the rule they break.

        A cell is flagged when either

        - ``growth``: its import value grows more than ``growth_limit``-fold,
          ``value_usd_new > growth_limit * value_usd`` (default 10x), or
        - ``exceeds_market``: its change is larger in absolute value than the change of its
          whole product market (all sources), of the opposite sign, and material:
          ``|dv_hk| > |dV_h|``, ``dv_hk * dV_h < 0`` and ``|dv_hk| > share_limit * V0_h``
          (default a tenth of the product's base imports): the source gains more than the
          whole market lost (or loses more than it gained), so the result is carried by
          diversion alone. The materiality bound keeps a 5% gain of a dominant source in a
          market that shrinks 5% from being flagged.

        Such cells are model artefacts of very elastic substitution or tiny base flows
        rather than findings; reports list them under a warning instead of charting them.

        Returns
        -------
        polars.DataFrame ``product, source, value_usd, value_usd_new, change_usd, growth,
        market_change_usd, rule`` (``rule`` = ``"growth"``, ``"exceeds_market"`` or
        ``"growth+exceeds_market"``), largest absolute change first.
        """
        return flag_implausible(self.table, growth_limit=growth_limit, share_limit=share_limit)

    def partner_imports_change(self, partner: str) -> "PartnerImportsChange":
        """Headline change in the importer's imports from ``partner`` (all products, USD at world prices)."""
        t = self.table.filter(pl.col("source") == partner)
        if t.height == 0:
            raise ScenarioError(f"partner_imports_change: no imports from {partner!r} in this result")
        old, new = float(t["value_usd"].sum()), float(t["value_usd_new"].sum())
        flagged = self.plausibility().filter(pl.col("source") == partner)
        return PartnerImportsChange(partner=partner, value_usd_old=old, value_usd_new=new,
                                    n_flagged=flagged.height,
                                    flagged_change_usd=float(flagged["change_usd"].sum()),
                                    options=dict(self.options))

    def __repr__(self) -> str:
        tot = self.totals()
        return (f"PEResult({self.table.height} rows, {self.products.height} products: imports "
                f"{_usd(tot['value_usd'])} -> {_usd(tot['value_usd_new'])}, tariff revenue "
                f"{_usd(tot['tariff_revenue_old'])} -> {_usd(tot['tariff_revenue_new'])}, consumer surplus "
                f"{_usd(tot['cs_change_usd'])}, deadweight loss {_usd(tot['deadweight_loss_usd'])})")


def flag_implausible(table: pl.DataFrame, *, growth_limit: float = GROWTH_LIMIT,
                     share_limit: float = SHARE_LIMIT) -> pl.DataFrame:
    """The rule of :meth:`PEResult.plausibility` on any table with ``product, source, value_usd, value_usd_new``."""
    if not growth_limit > 1:
        raise ScenarioError(f"growth_limit must be > 1, got {growth_limit}")
    if not 0 <= share_limit < 1:
        raise ScenarioError(f"share_limit must be in [0, 1), got {share_limit}")
    d = pl.col("value_usd_new") - pl.col("value_usd")
    t = table.select("product", "source", "value_usd", "value_usd_new").with_columns(
        change_usd=d, market_change_usd=d.sum().over("product"), _v0=pl.col("value_usd").sum().over("product"))
    grow = pl.col("value_usd_new") > growth_limit * pl.col("value_usd")
    over = ((pl.col("change_usd").abs() > pl.col("market_change_usd").abs())
            & (pl.col("change_usd") * pl.col("market_change_usd") < 0)
            & (pl.col("change_usd").abs() > share_limit * pl.col("_v0")))
    rule = (pl.when(grow & over).then(pl.lit("growth+exceeds_market"))
            .when(grow).then(pl.lit("growth")).when(over).then(pl.lit("exceeds_market")))
    return (t.with_columns(growth=pl.when(pl.col("value_usd") > 0).then(pl.col("value_usd_new") / pl.col("value_usd")),
                           rule=rule)
            .filter(pl.col("rule").is_not_null())
            .select("product", "source", "value_usd", "value_usd_new", "change_usd", "growth", "market_change_usd", "rule")
            .sort(pl.col("change_usd").abs(), descending=True))


@dataclass(frozen=True)
class PartnerImportsChange:
    """The importer's imports from one partner before and after, from :meth:`PEResult.partner_imports_change`.

    ``value_usd_old`` is the base year's imports (2024 Census data for the US schedules), ``value_usd_new``
    the PE prediction; ``n_flagged`` / ``flagged_change_usd``: cells of this partner that break the
    plausibility rule and what they contribute to the change.
    """

    partner: str
    value_usd_old: float
    value_usd_new: float
    n_flagged: int = 0
    flagged_change_usd: float = 0.0
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def change_usd(self) -> float:
        return self.value_usd_new - self.value_usd_old

    @property
    def change_pct(self) -> float:
        return 100.0 * (self.value_usd_new / self.value_usd_old - 1.0) if self.value_usd_old else math.nan

    def summary(self) -> str:
        return (f"Imports from {self.partner} (product-level PE): {_usd(self.value_usd_old)} -> "
                f"{_usd(self.value_usd_new)} ({self.change_pct:+.1f}%); {self.n_flagged} implausible cells "
                f"contribute {_usd(self.flagged_change_usd)}")


def explain_pe_vs_ge(pe_change_pct: float, ge_change_pct: float, *, importer: str = "US",
                     partner: str = "Japan") -> str:
    """One sentence comparing the PE and GE changes in ``importer``'s imports from ``partner``.

    A pure function of the two percent changes. The two differ by construction: the PE
    model holds the importer's income, wages and all other markets fixed and works on
    2024 HS10 Census data; the GE model (Caliendo-Parro) lets wages, incomes and every
    other country's trade adjust, on the 2017 sector-level world. When the signs differ
    the sentence says so.

    >>> explain_pe_vs_ge(1.0, -9.9)
    'US imports from Japan: +1.0% in the product-level model (partial equilibrium, 2024 HS10 Census data, other prices and incomes fixed) vs -9.9% in the general-equilibrium model (2017 world, 44 sectors, wages, incomes and all other trade adjust); the signs differ: substitution toward Japan within products dominates in partial equilibrium, while in general equilibrium lower US real income and spending shrink imports overall.'
    """
    for name, x in (("pe_change_pct", pe_change_pct), ("ge_change_pct", ge_change_pct)):
        if not math.isfinite(x):
            raise ScenarioError(f"explain_pe_vs_ge: {name} is not finite ({x})")
    head = (f"{importer} imports from {partner}: {pe_change_pct:+.1f}% in the product-level model (partial "
            f"equilibrium, 2024 HS10 Census data, other prices and incomes fixed) vs {ge_change_pct:+.1f}% in the "
            f"general-equilibrium model (2017 world, 44 sectors, wages, incomes and all other trade adjust)")
    if round(pe_change_pct, 1) * round(ge_change_pct, 1) < 0:
        up_pe = pe_change_pct > 0
        return (head + "; the signs differ: " +
                (f"substitution toward {partner} within products dominates in partial equilibrium, while in general "
                 f"equilibrium lower {importer} real income and spending shrink imports overall."
                 if up_pe else
                 f"the tariff cut within products is outweighed in partial equilibrium, while in general equilibrium "
                 f"wage and income changes raise {importer} spending on {partner}'s goods."))
    return (head + "; same direction, different size: the GE model adds income and wage effects and uses "
            "coarser sectors and an older base year.")


def _usd(x: float) -> str:
    for div, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "mn")):
        if abs(x) >= div:
            return f"${x / div:,.2f}{unit}"
    return f"${x:,.2f}"


# ----------------------------------------------------------------------------- input handling


def _to_polars(df: Any, what: str) -> pl.DataFrame:
    if isinstance(df, pl.DataFrame):
        return df
    try:
        import pandas as pd

        if isinstance(df, pd.DataFrame):
            return pl.from_pandas(df)
    except ImportError:  # pragma: no cover
        pass
    raise DataError(f"{what} must be a polars or pandas DataFrame, got {type(df).__name__}")


def _validate_imports(imports: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in INPUT_COLUMNS if c not in imports.columns]
    if missing:
        raise DataError(f"imports: missing column(s) {', '.join(missing)}; need {', '.join(INPUT_COLUMNS)}")
    for c in ("product", "source"):
        if imports[c].null_count():
            raise DataError(f"imports: null {c} in row {int(imports[c].is_null().arg_max())}")
    num = {}
    for c in ("value_usd", "tariff_old", "tariff_new"):
        try:
            num[c] = imports[c].cast(pl.Float64).to_numpy()
        except Exception:  # noqa: BLE001
            raise DataError(f"imports: column {c} is not numeric (dtype {imports[c].dtype})") from None
        bad = ~np.isfinite(num[c])
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"imports: {c} is not finite in row {i} (product {imports['product'][i]!r}, "
                            f"source {imports['source'][i]!r})")
    for c, cond, msg in (("value_usd", num["value_usd"] < 0, "negative"),
                         ("tariff_old", num["tariff_old"] <= -1, "<= -1"),
                         ("tariff_new", num["tariff_new"] <= -1, "<= -1")):
        if cond.any():
            i = int(np.argmax(cond))
            raise DataError(f"imports: {c} is {msg} ({num[c][i]}) in row {i} (product {imports['product'][i]!r}, "
                            f"source {imports['source'][i]!r})")
    return imports


def _factorize(col: pl.Series) -> tuple[np.ndarray, pl.Series]:
    """Integer codes in first-seen order and the distinct labels (one hash pass over the column)."""
    if col.len() == 0:
        return np.zeros(0, dtype=np.int64), col
    if col.dtype == pl.Utf8:
        phys = col.cast(pl.Categorical).to_physical().to_numpy()
    else:
        phys = col.rank("dense").to_numpy()
    phys = phys.astype(np.int64)
    n = phys.size
    if int(phys.max()) < 8 * n + 1024:
        # O(n): first occurrence of each physical code, then renumber codes by first occurrence
        first = np.full(int(phys.max()) + 1, n, dtype=np.int64)
        np.minimum.at(first, phys, np.arange(n, dtype=np.int64))
        present = np.flatnonzero(first < n)
        by_seen = present[np.argsort(first[present], kind="stable")]
        remap = np.empty(first.size, dtype=np.int64)
        remap[by_seen] = np.arange(by_seen.size)
        return remap[phys], col.gather(first[by_seen])
    _, first_u, inv = np.unique(phys, return_index=True, return_inverse=True)
    seen = np.argsort(first_u, kind="stable")                 # groups in first-seen order
    rank = np.empty_like(seen)
    rank[seen] = np.arange(seen.size)
    return rank[inv].astype(np.int64), col.gather(first_u[seen])


def _check_unique_pairs(g: np.ndarray, k: np.ndarray, n_g: int, n_k: int, df: pl.DataFrame) -> None:
    key = g * n_k + k
    if n_g * n_k <= 50_000_000:
        if key.size == 0 or np.bincount(key, minlength=n_g * n_k).max() <= 1:
            return
        dup = np.bincount(key, minlength=n_g * n_k)[key] > 1
    else:
        dup = pl.Series(key).is_duplicated().to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise DataError(f"imports: duplicate (product, source) = ({df['product'][i]!r}, {df['source'][i]!r})")


def _per_product(spec: ElasticitySpec, name: str, products: pl.Series, *, allow_inf: bool = False) -> np.ndarray:
    """Broadcast a scalar / mapping / table keyed by ``product`` to one value per product."""
    if isinstance(spec, (int, float, np.floating, np.integer)) and not isinstance(spec, bool):
        vals = np.full(products.len(), float(spec))
    else:
        if isinstance(spec, Mapping):
            tab = pl.DataFrame({"product": list(spec.keys()), name: [float(v) for v in spec.values()]})
        else:
            tab = _to_polars(spec, name)
            col = name if name in tab.columns else ("value" if "value" in tab.columns else None)
            if "product" not in tab.columns or col is None:
                raise DataError(f"{name} table: need columns 'product' and '{name}'")
            tab = tab.select("product", pl.col(col).cast(pl.Float64).alias(name))
        if tab["product"].dtype != products.dtype:
            raise DataError(f"{name} table: product key dtype {tab['product'].dtype} does not match imports "
                            f"product dtype {products.dtype}")
        if tab["product"].is_duplicated().any():
            raise DataError(f"{name} table: duplicate product {tab.filter(tab['product'].is_duplicated())['product'][0]!r}")
        joined = pl.DataFrame({"product": products}).join(tab, on="product", how="left", maintain_order="left")
        miss = joined[name].is_null()
        if miss.any():
            raise DataError(f"no {name} for product {joined['product'][int(miss.arg_max())]!r} "
                            f"({int(miss.sum())} products missing; use tariffsim.data.elasticities.lookup for fallbacks)")
        vals = joined[name].to_numpy().astype(float)
    bad = ~(vals > 0) | (np.isinf(vals) & (not allow_inf)) | np.isnan(vals)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{name} must be positive{'' if allow_inf else ' and finite'}; got {vals[i]} for product "
                        f"{products[i]!r}")
    return vals


def _supply_per_row(spec: ElasticitySpec, df: pl.DataFrame, g: np.ndarray, products: pl.Series,
                    k: np.ndarray, sources: pl.Series) -> np.ndarray:
    """Export supply elasticity per row: scalar, mapping by product, or table keyed by product and/or source."""
    name = "supply_elasticity"
    if isinstance(spec, (int, float, np.floating, np.integer)) and not isinstance(spec, bool):
        vals = np.full(df.height, float(spec))
    elif isinstance(spec, Mapping):
        vals = _per_product(spec, name, products, allow_inf=True)[g]
    else:
        tab = _to_polars(spec, name)
        keys = [c for c in ("product", "source") if c in tab.columns]
        if not keys or name not in tab.columns:
            raise DataError(f"{name} table: need key column(s) product and/or source and a '{name}' column")
        for c in keys:
            if tab[c].dtype != df[c].dtype:
                raise DataError(f"{name} table: {c} key dtype {tab[c].dtype} does not match imports {df[c].dtype}")
        if tab.select(keys).is_duplicated().any():
            raise DataError(f"{name} table: duplicate key {tab.filter(tab.select(keys).is_duplicated()).row(0)[:len(keys)]}")
        tab = tab.select(*keys, pl.col(name).cast(pl.Float64))
        if keys == ["product"] or keys == ["source"]:
            labels, codes = (products, g) if keys == ["product"] else (sources, k)
            j = pl.DataFrame({keys[0]: labels}).join(tab, on=keys, how="left", maintain_order="left")
            miss = j[name].is_null().to_numpy()
            if miss.any():
                raise DataError(f"no {name} for {keys[0]} {labels[int(np.argmax(miss))]!r}")
            vals = j[name].to_numpy()[codes]
        else:
            j = df.select(keys).join(tab, on=keys, how="left", maintain_order="left")
            miss = j[name].is_null()
            if miss.any():
                i = int(miss.arg_max())
                raise DataError(f"no {name} for {', '.join(f'{c} {j[c][i]!r}' for c in keys)}")
            vals = j[name].to_numpy().astype(float)
    bad = ~(vals > 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{name} must be positive (inf = perfectly elastic); got {vals[i]} for product "
                        f"{df['product'][i]!r}, source {df['source'][i]!r}")
    return vals


# ----------------------------------------------------------------------------- kernel


@dataclass(frozen=True)
class _Groups:
    """Row -> product index; group reductions without sorting (bincount and ufunc.at)."""

    g: np.ndarray
    n: int

    def sum(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.g, weights=x, minlength=self.n)

    def max(self, x: np.ndarray) -> np.ndarray:
        out = np.full(self.n, -np.inf)
        np.maximum.at(out, self.g, x)
        return out

    def min(self, x: np.ndarray) -> np.ndarray:
        out = np.full(self.n, np.inf)
        np.minimum.at(out, self.g, x)
        return out


def _ces_log_mean(lp: np.ndarray, s: np.ndarray, oms_g: np.ndarray, grp: _Groups,
                  cd_g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ln of the CES mean (1) of exp(lp) with weights s, per product; and the new-share weights omega.

    ``oms_g`` is 1 - sigma per product. Uses a group-wise log-sum-exp for stability (sigma up
    to thousands in Broda-Weinstein); Cobb-Douglas (sigma = 1) products use the geometric mean.
    """
    g = grp.g
    m = oms_g[g] * lp
    pos = s > 0
    mx = grp.max(np.where(pos, m, -np.inf))
    mx = np.where(np.isfinite(mx), mx, 0.0)
    e = np.where(pos, s * np.exp(m - mx[g]), 0.0)
    tot = grp.sum(e)
    safe_tot = np.where(tot > 0, tot, 1.0)
    ces = (np.log(safe_tot) + mx) / np.where(cd_g, 1.0, oms_g)
    geo = grp.sum(np.where(pos, s * lp, 0.0))
    out = np.where(tot > 0, np.where(cd_g, geo, ces), 0.0)
    omega = np.where(cd_g[g], s, e / safe_tot[g])
    return out, omega


def _solve_log_price_index(lt: np.ndarray, s: np.ndarray, sigma_g: np.ndarray, eps_g: np.ndarray,
                           eta_r: np.ndarray, grp: _Groups, *, tol: float = 1e-13,
                           max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Solve (1), (4), (6) for y_h = ln P_hat_h, all products at once.

    Returns ``(y per product, ln p_hat per row, iterations, max |F|)``. Raises
    :class:`ConvergenceError` if the safeguarded Newton iteration fails.
    """
    g = grp.g
    sigma_r, eps_r = sigma_g[g], eps_g[g]
    inf = np.isinf(eta_r)
    eta_f = np.where(inf, 1.0, eta_r)
    k = np.where(inf, 1.0, eta_f / (eta_f + sigma_r))            # weight of ln tau_hat in ln p_hat
    c = np.where(inf, 0.0, (sigma_r - eps_r) / (eta_f + sigma_r))  # slope of ln p_hat in y
    a = lt * k
    # closed-form bracket: lo <= y* <= hi with b_k = ln tau_hat * eta / (eta + epsilon)
    b = np.where(inf, lt, lt * eta_f / (eta_f + eps_r))
    pos = s > 0
    lo = grp.min(np.where(pos, b, np.inf))
    hi = grp.max(np.where(pos, b, -np.inf))
    empty = ~np.isfinite(lo)
    # widen by rounding error so that an exact Newton step is never rejected as outside the bracket
    lo = np.where(empty, 0.0, lo) - 1e-12 * (1.0 + np.abs(np.where(empty, 0.0, lo)))
    hi = np.where(empty, 0.0, hi) + 1e-12 * (1.0 + np.abs(np.where(empty, 0.0, hi)))
    oms_g = 1.0 - sigma_g
    cd_g = np.abs(oms_g) < 1e-12
    const_c = bool(np.all(c == 0))

    # Initial guess: with one eta per product, ln p_hat = a + c y is shifted uniformly, so the CES
    # mean is A + c y and y = A / (1 - c) exactly (one evaluation then only confirms it). With mixed
    # eta, the share-weighted mean of c gives a guess inside the bracket.
    a_mean, _ = _ces_log_mean(a, s, oms_g, grp, cd_g)
    c_bar = grp.sum(s * c)
    y = np.clip(a_mean / (1.0 - c_bar), lo, hi)
    it = 0
    resid = 0.0
    for it in range(max_iter + 1):
        lp = a + c * y[g] if not const_c else a
        mean, omega = _ces_log_mean(lp, s, oms_g, grp, cd_g)
        f = y - mean
        resid = float(np.max(np.abs(f))) if f.size else 0.0
        if resid <= tol * (1.0 + (float(np.max(np.abs(y))) if y.size else 0.0)) or it == max_iter:
            break
        # bracket update: F is increasing in y
        lo = np.where(f < 0, y, lo)
        hi = np.where(f > 0, y, hi)
        fp = 1.0 - grp.sum(omega * c)
        step = y - f / fp
        inside = (step >= lo) & (step <= hi)
        y = np.where(f == 0, y, np.where(inside, step, 0.5 * (lo + hi)))
    if not resid <= 1e-9 * (1.0 + (float(np.max(np.abs(y))) if y.size else 0.0)):
        raise ConvergenceError(f"PE price index did not converge: max |F| = {resid:.3g} after {it} iterations",
                               residual=resid, iterations=it)
    lp = a + c * y[g]
    return y, lp, it, resid


# ----------------------------------------------------------------------------- public


def simulate(imports: Any, *, sigma: ElasticitySpec, epsilon: ElasticitySpec,
             supply_elasticity: ElasticitySpec = math.inf) -> PEResult:
    """Exact CES product-level partial equilibrium for one importer (equations (1)-(6) above).

    Parameters
    ----------
    imports : polars or pandas table with columns ``product``, ``source``, ``value_usd``
        (base imports at world prices, before tariff, >= 0), ``tariff_old``, ``tariff_new``
        (ad valorem, fractions > -1). One row per (product, source); other columns are kept.
    sigma : elasticity of substitution between sources (> 0): a number, a ``{product: value}``
        mapping, or a table with ``product`` and ``sigma`` columns covering every product.
    epsilon : absolute import demand elasticity of each product on its CES price index (> 0),
        same forms as ``sigma``.
    supply_elasticity : export supply elasticity eta (> 0, ``inf`` = world prices fixed):
        a number, a ``{product: value}`` mapping, or a table keyed by ``product`` and/or
        ``source`` with a ``supply_elasticity`` column.

    Returns
    -------
    PEResult

    Examples
    --------
    One source, one product: Q_hat = ((1 + t1) / (1 + t0)) ** -epsilon exactly.

    >>> import polars as pl
    >>> imp = pl.DataFrame({"product": ["8703"], "source": ["JPN"], "value_usd": [100.0],
    ...                     "tariff_old": [0.0], "tariff_new": [0.25]})
    >>> r = simulate(imp, sigma=4.0, epsilon=2.0)
    >>> round(r.table["quantity_hat"][0], 12) == round(1.25 ** -2, 12)
    True
    """
    df = _validate_imports(_to_polars(imports, "imports"))
    g, products = _factorize(df["product"])
    k, sources = _factorize(df["source"])
    _check_unique_pairs(g, k, products.len(), sources.len(), df)
    grp = _Groups(g, products.len())
    sig_p = _per_product(sigma, "sigma", products)
    eps_p = _per_product(epsilon, "epsilon", products)
    eta = _supply_per_row(supply_elasticity, df, g, products, k, sources)

    v = df["value_usd"].cast(pl.Float64).to_numpy()
    t0 = df["tariff_old"].cast(pl.Float64).to_numpy()
    t1 = df["tariff_new"].cast(pl.Float64).to_numpy()
    sig_r, eps_r = sig_p[g], eps_p[g]

    e0 = v * (1.0 + t0)
    e0_g = grp.sum(e0)
    s = e0 / np.where(e0_g > 0, e0_g, 1.0)[g]
    lt = np.log1p(t1) - np.log1p(t0)

    y, lp, iters, resid = _solve_log_price_index(lt, s, sig_p, eps_p, eta, grp)

    y_r = y[g]
    x = lp - lt                                          # ln pstar_hat, eq. (6)
    lq = -sig_r * (lp - y_r) - eps_r * y_r              # ln q_hat, eq. (3)
    q_hat = np.exp(lq)
    pstar_hat = np.exp(x)
    p_hat = np.exp(lp)
    v1 = v * pstar_hat * q_hat
    e1 = v1 * (1.0 + t1)
    rev0, rev1 = t0 * v, t1 * v1

    # creation / diversion: shift-share of the value change at world prices
    v0_g, v1_g = grp.sum(v), grp.sum(v1)
    sh0 = v / np.where(v0_g > 0, v0_g, 1.0)[g]
    sh1 = v1 / np.where(v1_g > 0, v1_g, 1.0)[g]
    diversion = v0_g[g] * (sh1 - sh0)
    creation = sh1 * (v1_g - v0_g)[g]

    # consumer surplus of the import composite: -E0 * int_1^P_hat x^-eps dx
    one_m_eps = 1.0 - eps_p
    unit = np.abs(one_m_eps) < 1e-12
    integral = np.where(unit, y, np.expm1(one_m_eps * y) / np.where(unit, 1.0, one_m_eps))
    cs_g = -e0_g * integral
    e1_g = grp.sum(e1)
    s1 = e1 / np.where(e1_g > 0, e1_g, 1.0)[g]
    w = -0.5 * (s + s1) * lp
    w_g = grp.sum(w)
    ok = np.abs(w_g) > 1e-300
    alloc = np.where(ok[g], w / np.where(ok, w_g, 1.0)[g], s)
    cs = cs_g[g] * alloc

    tot = v * q_hat * (1.0 - pstar_hat)
    dwl = tot - (cs + rev1 - rev0)
    inf = np.isinf(eta)
    eta_f = np.where(inf, 1.0, eta)
    with np.errstate(over="ignore"):
        ps = np.where(inf, 0.0, v * np.expm1((1.0 + eta_f) * x) / (1.0 + eta_f))
    with np.errstate(divide="ignore", invalid="ignore"):
        pass_through = np.where(lt != 0, np.expm1(lp) / np.expm1(lt), np.nan)

    cols = {
        "sigma": sig_r, "epsilon": eps_r, "supply_elasticity": eta,
        "value_usd_new": v1, "quantity_hat": q_hat, "world_price_hat": pstar_hat, "consumer_price_hat": p_hat,
        "pass_through": pass_through, "expenditure_usd_old": e0, "expenditure_usd_new": e1,
        "tariff_revenue_old": rev0, "tariff_revenue_new": rev1, "creation_usd": creation, "diversion_usd": diversion,
        "cs_change_usd": cs, "tot_gain_usd": tot, "deadweight_loss_usd": dwl, "exporter_surplus_change_usd": ps,
    }
    table = df.with_columns(**{name: pl.Series(name, val, dtype=pl.Float64) for name, val in cols.items()})

    prod = pl.DataFrame({
        "product": products, "sigma": sig_p, "epsilon": eps_p,
        "price_index_hat": np.exp(y), "quantity_hat": np.exp(-eps_p * y),
        "value_usd": v0_g, "value_usd_new": v1_g, "expenditure_usd_old": e0_g, "expenditure_usd_new": e1_g,
        "tariff_revenue_old": grp.sum(rev0), "tariff_revenue_new": grp.sum(rev1),
        "cs_change_usd": cs_g, "tot_gain_usd": grp.sum(tot), "deadweight_loss_usd": grp.sum(dwl),
    })
    opts = {"sigma": _describe(sigma), "epsilon": _describe(epsilon), "supply_elasticity": _describe(supply_elasticity)}
    return PEResult(table=table, products=prod, iterations=int(iters), residual=float(resid), options=opts)


def _describe(spec: Any) -> Any:
    return spec if isinstance(spec, (int, float)) else f"<{type(spec).__name__}>"


def smart_linear(imports: Any, *, sigma: ElasticitySpec, epsilon: ElasticitySpec,
                 supply_elasticity: float = math.inf) -> pl.DataFrame:
    """SMART's log-linear trade creation and diversion, for comparison with :func:`simulate`.

    Trade creation (Laird & Yeats 1986; Jammes & Olarreaga 2005, eq. 5), with the import
    demand elasticity as a positive number and export supply elasticity ``eta``:

        TC_k = -epsilon * M_k * (t1_k - t0_k) / ((1 + t0_k) * (1 + epsilon / eta))

    Trade diversion (first order of Jammes & Olarreaga 2005, eq. 9, generalised to many
    sources with the CES price index): ``TD_k = -sigma * M_k * (dln p_k - sum_j w_j dln p_j)``
    with ``dln p = (t1 - t0) / (1 + t0)`` and ``w`` the base value shares; TD sums to zero.

    Returns the input rows with ``smart_creation_usd`` and ``smart_diversion_usd``.
    """
    df = _validate_imports(_to_polars(imports, "imports"))
    products = df["product"].unique(maintain_order=True)
    m = pl.DataFrame({"product": products, "_sig": _per_product(sigma, "sigma", products),
                      "_eps": _per_product(epsilon, "epsilon", products)})
    eta = float(supply_elasticity)
    supply = 0.0 if math.isinf(eta) else 1.0 / eta
    d = df.join(m, on="product", how="left", maintain_order="left").with_columns(
        _dlp=(pl.col("tariff_new") - pl.col("tariff_old")) / (1 + pl.col("tariff_old")),
        _w=pl.col("value_usd") / pl.col("value_usd").sum().over("product"))
    d = d.with_columns(_mean=(pl.col("_w") * pl.col("_dlp")).sum().over("product"))
    return d.with_columns(
        smart_creation_usd=-pl.col("_eps") * pl.col("value_usd") * pl.col("_dlp") / (1 + pl.col("_eps") * supply),
        smart_diversion_usd=-pl.col("_sig") * pl.col("value_usd") * (pl.col("_dlp") - pl.col("_mean")),
    ).drop("_sig", "_eps", "_dlp", "_w", "_mean")


# ----------------------------------------------------------------------------- US imports under schedules

DEFAULT_SUPPLY_ELASTICITY = 10.0
"""Export supply elasticity eta used for US imports under schedules unless given.

Finite on purpose: with eta = inf a source whose relative price falls by x% can grow by
(1 + x)**sigma, without bound as sigma grows; with finite eta its volume growth is bounded
by about (relative price advantage)**eta whatever sigma (eq. (6): ``ln q_hat = eta ln
pstar_hat``), here 1.15**10 = 4.0 for a 15% advantage. The value 10 keeps pass-through high:
for a one-source product pass-through is eta / (eta + epsilon) = 89% at the median epsilon
(1.26), in line with the near-complete pass-through of the 2018-19 US tariffs to US import
prices (Amiti, Redding & Weinstein 2019, JEP 33(4); Fajgelbaum, Goldberg, Kennedy &
Khandelwal 2020, QJE 135(1), who cannot reject horizontal foreign supply). It is a chosen
round number inside that evidence, not an estimate; ``elasticities={"supply_elasticity":
float("inf")}`` gives SMART's default (WITS SMART uses 99, i.e. infinite).
"""


def _elasticity_inputs(codes: pl.Series, elasticities: Mapping[str, Any] | None) -> tuple[pl.DataFrame, Any]:
    from ..data.elasticities import product_elasticities

    el = dict(elasticities or {})
    unknown = set(el) - {"sigma", "epsilon", "supply_elasticity", "default", "sigma_cap"}
    if unknown:
        raise ScenarioError(f"elasticities: unknown key(s) {', '.join(sorted(unknown))}; "
                            "known: sigma, epsilon, supply_elasticity, default, sigma_cap")
    tab = product_elasticities(codes, sigma=el.get("sigma"), epsilon=el.get("epsilon"),
                               default=el.get("default", "documented"), sigma_cap=el.get("sigma_cap", "documented"))
    return tab, el.get("supply_elasticity", DEFAULT_SUPPLY_ELASTICITY)


def post_substitution_imports(rates: Any, *, elasticities: Mapping[str, Any] | None = None) -> pl.DataFrame:
    """New imports by (hs10, partner) after substitution, for the policy layer's post-substitution ETR.

    Parameters
    ----------
    rates : table with ``hs10, partner, tariff_rate_old, tariff_rate_new, value_usd``.
    elasticities : optional ``{"sigma": ..., "epsilon": ..., "supply_elasticity": ...,
        "default": ..., "sigma_cap": ...}``; sigma/epsilon/sigma_cap as in
        :func:`tariffsim.data.elasticities.product_elasticities` (``None`` = bundled
        estimates with HS fallbacks, sigma capped at the Broda-Weinstein 90th percentile);
        supply_elasticity defaults to :data:`DEFAULT_SUPPLY_ELASTICITY` (10).

    Returns
    -------
    polars.DataFrame ``hs10, partner, value_usd_new`` in the input row order.
    """
    r = _to_polars(rates, "rates")
    need = ["hs10", "partner", "tariff_rate_old", "tariff_rate_new", "value_usd"]
    miss = [c for c in need if c not in r.columns]
    if miss:
        raise DataError(f"rates: missing column(s) {', '.join(miss)}")
    res = _simulate_hs10(r.select(need), elasticities)
    return res.table.select(pl.col("product").alias("hs10"), pl.col("source").alias("partner"), "value_usd_new")


def _simulate_hs10(r: pl.DataFrame, elasticities: Mapping[str, Any] | None) -> PEResult:
    if r["hs10"].dtype != pl.Utf8:
        raise DataError(f"rates: hs10 must be zero-padded strings, got dtype {r['hs10'].dtype}")
    tab, eta = _elasticity_inputs(r["hs10"].unique(maintain_order=True), elasticities)
    imp = r.rename({"hs10": "product", "partner": "source", "tariff_rate_old": "tariff_old",
                    "tariff_rate_new": "tariff_new"})
    return simulate(imp, sigma=tab.select("product", "sigma"), epsilon=tab.select("product", "epsilon"),
                    supply_elasticity=eta)


def schedule_rates(new: pl.DataFrame, old: pl.DataFrame, imports: pl.DataFrame) -> pl.DataFrame:
    """Join base imports with old and new rate tables on (hs10, partner).

    Every import row must have a rate in both tables (a missing rate is a key mismatch,
    not a zero tariff). Returns ``hs10, partner, value_usd, tariff_rate_old, tariff_rate_new``.
    """
    for name, t in (("new schedule", new), ("base schedule", old), ("imports", imports)):
        need = ["hs10", "partner"] + (["value_usd"] if name == "imports" else ["tariff_rate"])
        miss = [c for c in need if c not in t.columns]
        if miss:
            raise DataError(f"{name}: missing column(s) {', '.join(miss)}")
        if t["hs10"].dtype != pl.Utf8:
            raise DataError(f"{name}: hs10 must be zero-padded strings, got dtype {t['hs10'].dtype}")
    keys = ["hs10", "partner"]
    out = imports.select(*keys, pl.col("value_usd").cast(pl.Float64))
    ik = out.select(keys)
    for name, t, col in (("base schedule", old, "tariff_rate_old"), ("new schedule", new, "tariff_rate_new")):
        tt = t.select(*keys, pl.col("tariff_rate").cast(pl.Float64).alias(col))
        if tt.height == out.height and tt.select(keys).equals(ik):
            # fast path: the policy layer returns rates on the same (hs10, partner) rows as its imports
            out = out.with_columns(tt[col])
        else:
            try:
                out = out.join(tt, on=keys, how="left", maintain_order="left", validate="m:1")
            except pl.exceptions.ComputeError:
                dup = tt.filter(tt.select(keys).is_duplicated()).row(0)
                raise DataError(f"{name}: duplicate rate rows for hs10 {dup[0]!r}, partner {dup[1]!r}") from None
        miss = out[col].is_null()
        if miss.any():
            i = int(miss.arg_max())
            raise DataError(f"{name}: no tariff_rate for hs10 {out['hs10'][i]!r}, partner {out['partner'][i]!r} "
                            f"({int(miss.sum())} import rows unmatched)")
    return out


def simulate_schedule(schedule_name: str, date: Any, *, base: str = "baseline-2024", base_date: Any = None,
                      imports: pl.DataFrame | None = None, elasticities: Mapping[str, Any] | None = None,
                      schedule_loader: Callable[[str], Any] | None = None) -> PEResult:
    """US imports 2024 by HS10 × partner re-simulated under a built-in schedule of the policy layer.

    Parameters
    ----------
    schedule_name : a name from ``tariffsim.policy.list_schedules()``.
    date : date at which the schedule's rates are taken (``schedule.at(date)``).
    base : schedule giving the base-year rates (default ``"baseline-2024"``), taken at
        ``base_date`` (default: ``date``).
    imports : base imports ``hs10, partner, value_usd`` (default ``tariffsim.policy.us_imports_2024()``).
    elasticities : see :func:`post_substitution_imports`.
    schedule_loader : ``name -> schedule`` (default ``tariffsim.policy.builtin_schedule``);
        for tests and user-defined schedules.

    Returns
    -------
    PEResult with ``product`` = hs10 and ``source`` = partner.
    """
    if schedule_loader is None or imports is None:
        from .. import policy

        schedule_loader = schedule_loader or policy.builtin_schedule
        imports = policy.us_imports_2024() if imports is None else imports
    new = schedule_loader(schedule_name).at(date)
    old = schedule_loader(base).at(date if base_date is None else base_date)
    rates = schedule_rates(_to_polars(new, "schedule"), _to_polars(old, "base schedule"), _to_polars(imports, "imports"))
    res = _simulate_hs10(rates, elasticities)
    return PEResult(table=res.table, products=res.products, iterations=res.iterations, residual=res.residual,
                    options={**res.options, "schedule": schedule_name, "date": str(date), "base": base,
                             "base_date": str(date if base_date is None else base_date)})


__all__ = ["PEResult", "PartnerImportsChange", "simulate", "smart_linear", "post_substitution_imports", "simulate_schedule",
           "schedule_rates", "flag_implausible", "explain_pe_vs_ge", "GROWTH_LIMIT", "SHARE_LIMIT", "DEFAULT_SUPPLY_ELASTICITY"]
