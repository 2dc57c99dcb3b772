"""Monte Carlo over trade elasticities: quantile bands for GE results.

Nobody knows the trade elasticities ``theta[s]`` exactly, so a counterfactual's
welfare, trade and revenue effects are reported as bands. :func:`monte_carlo`
draws ``theta`` by sector, solves every draw of the Caliendo-Parro model
(:mod:`tariffsim.models.ge`) batched with ``jax.vmap`` in chunks (see
:mod:`tariffsim.scale._kernel`), and returns the draws and their 5/50/95
percent quantiles.

Distribution (documented default). Independently by sector,

    theta[s] ~ LogNormal  with  E[theta[s]] = theta0[s],  SD[theta[s]] = sd[s],
    i.e. log theta[s] ~ Normal(mu[s], v[s]),  v[s] = log(1 + (sd[s] / theta0[s])^2),
                                             mu[s] = log theta0[s] - v[s] / 2,

which keeps every draw positive and matches the first two moments of the point
estimate and its standard error. ``theta0`` is the world's ``theta`` (or the
``theta=`` given). ``sd`` is ``theta_sd`` when given; otherwise the standard
error published with the estimate where the bundled ``elasticities`` data carry
one for the world's sector and the world uses that estimate, and otherwise
``DEFAULT_THETA_CV`` (25%) times ``theta0``, with an
:class:`~tariffsim.errors.ElasticityFallbackWarning`. The bundled Caliendo-Parro
(2015) sector estimates come without standard errors (their replication file
``T.txt`` has none), so today the 25% default applies to every bundled world;
CP's own bootstrap intervals are of that order for most goods sectors. Pass
``theta_draws=`` for any other distribution (for example correlated draws).

References
----------
Caliendo, L. and F. Parro (2015), "Estimates of the Trade and Welfare Effects of
NAFTA", Review of Economic Studies 82(1), 1-44, section 4 (sectoral trade
elasticities and their standard errors).
"""

from __future__ import annotations

import importlib
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConvergenceError, DataError, ElasticityFallbackWarning, ScenarioError, TariffsimWarning
from ..models import ge
from ..world import World
from . import _kernel

#: Monte Carlo of the other model families: name -> "module:function" (imported when first used).
MC_FAMILIES: dict[str, str] = {"ilms2025": "tariffsim.scale.montecarlo_ilms:monte_carlo"}
#: Coefficient of variation of theta where no standard error is known.
DEFAULT_THETA_CV = 0.25
#: Quantiles reported by :meth:`MonteCarloResult.bands`.
QUANTILES = (0.05, 0.50, 0.95)


class FailedDrawsWarning(TariffsimWarning):
    """Some Monte Carlo draws or sweep scenarios did not converge; they are counted, excluded from bands and NaN in the arrays."""


def default_chunk_size() -> int:
    """Draws per compiled batch: small on CPU (the working set of a batch must fit in
    cache; measured on world_io_7x44_2017 with one chunk per core at a time: 2,048 draws in
    1.48-1.57 s at 16, 1.54-1.55 s at 32, 1.74-2.3 s at 64 and 2.6 s at 128, see
    docs/performance.md), large on accelerators."""
    return 32 if jax.default_backend() == "cpu" else 4096


# --------------------------------------------------------------------------- elasticity draws
def theta_standard_errors(world: World) -> tuple[np.ndarray, tuple[str, ...]]:
    """Published standard errors of the world's ``theta`` where the bundled data carry them.

    Returns ``(sd, source)``: ``sd[s]`` is NaN where unknown; ``source[s]`` names the
    table used or ``""``. A standard error applies only where the sector code matches
    and the world's ``theta[s]`` equals the published point estimate (so the error
    belongs to the number actually used).
    """
    sd = np.full(world.n_sectors, np.nan)
    src = [""] * world.n_sectors
    try:
        from ..data.catalog import read_table

        tab = read_table("elasticities", "theta_cp")
    except Exception:  # noqa: BLE001 - data optional here: no table means no standard errors
        return sd, tuple(src)
    se_col = next((c for c in ("theta_se", "std_err", "se") if c in tab.columns), None)
    if se_col is None or "sector" not in tab.columns or "theta" not in tab.columns:
        return sd, tuple(src)
    rows = {str(r["sector"]): r for r in tab.iter_rows(named=True)}
    for s, code in enumerate(world.sectors):
        r = rows.get(str(code))
        if r is None or r[se_col] is None or r["theta"] is None:
            continue
        if abs(float(r["theta"]) - float(world.theta[s])) <= 1e-9 * max(1.0, abs(float(r["theta"]))):
            sd[s] = float(r[se_col])
            src[s] = f"elasticities/theta_cp.{se_col}"
    return sd, tuple(src)


def _theta_sd(world: World, theta0: np.ndarray, theta_sd) -> tuple[np.ndarray, tuple[str, ...]]:
    S = world.n_sectors
    if theta_sd is not None:
        if isinstance(theta_sd, Mapping):
            sd = np.full(S, np.nan)
            for k, v in theta_sd.items():
                sd[world.sector_index(str(k))[0]] = float(v)
            missing = [world.sectors[s] for s in np.nonzero(np.isnan(sd))[0]]
            if missing:
                raise DataError(f"theta_sd: no value for sector {missing[0]!r} ({len(missing)} sectors missing)")
        else:
            sd = np.broadcast_to(np.asarray(theta_sd, dtype=float), (S,)).copy() if np.ndim(theta_sd) == 0 \
                else np.asarray(theta_sd, dtype=float)
            if sd.shape != (S,):
                raise DataError(f"theta_sd: expected a number or shape ({S},), got shape {sd.shape}")
        if not np.isfinite(sd).all() or (sd < 0).any():
            raise DataError("theta_sd: standard deviations must be finite and >= 0")
        return sd, ("given",) * S
    sd, src = theta_standard_errors(world)
    miss = np.isnan(sd)
    if miss.any():
        warnings.warn(
            f"theta standard errors not in the data for {int(miss.sum())} of {S} sectors of {world.name}; "
            f"using a {DEFAULT_THETA_CV:.0%} coefficient of variation (DEFAULT_THETA_CV)",
            ElasticityFallbackWarning, stacklevel=3)
        sd = np.where(miss, DEFAULT_THETA_CV * theta0, sd)
        src = tuple(f"default_cv_{DEFAULT_THETA_CV:g}" if m else s for m, s in zip(miss, src))
    return sd, src


def draw_theta(theta0: np.ndarray, sd: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """``draws x S`` log-normal draws with mean ``theta0`` and standard deviation ``sd`` (independent sectors).

    Sectors with ``sd == 0`` get exactly ``theta0``. The draws depend only on
    ``(theta0, sd, draws, seed)`` (numpy ``default_rng(seed)``), not on chunking.

    Examples
    --------
    >>> d = draw_theta(np.array([4.0, 8.0]), np.array([0.0, 2.0]), 20_000, seed=1)
    >>> bool((d[:, 0] == 4.0).all()), round(float(d[:, 1].mean()), 1)
    (True, 8.0)
    """
    theta0 = np.asarray(theta0, dtype=float)
    sd = np.asarray(sd, dtype=float)
    v = np.log1p((sd / theta0) ** 2)
    mu = np.log(theta0) - v / 2
    z = np.random.default_rng(seed).standard_normal((int(draws), theta0.shape[0]))
    out = np.exp(mu + np.sqrt(v) * z)
    return np.where(sd == 0, theta0, out)


# --------------------------------------------------------------------------- result
_REGION_ARRAYS = ("welfare_hat", "ev_usd", "wage_hat", "income", "tariff_revenue", "exports", "imports")


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """Draws of a GE counterfactual under elasticity uncertainty.

    Arrays have a leading draw axis; failed draws (residual above
    ``models.ge.ACCEPT_TOL`` or non-finite) are NaN rows, flagged in
    ``failed_mask`` and counted in ``failed``; :meth:`bands` uses the others.
    Money in USD millions, trade valued before tariffs.

    Attributes
    ----------
    point : the point estimate (:func:`tariffsim.solve` at ``theta0``).
    theta : (draws, S) elasticities drawn.
    welfare_hat, wage_hat, income, tariff_revenue, exports, imports : (draws, N).
    bilateral_trade : (draws, N, N) exporter x importer, summed over sectors (diagonal: domestic sales).
    residual, iterations : (draws,) solver diagnostics.
    """

    point: ge.Equilibrium
    theta0: np.ndarray
    theta_sd: np.ndarray
    theta_sd_source: tuple[str, ...]
    theta: np.ndarray
    welfare_hat: np.ndarray
    wage_hat: np.ndarray
    income: np.ndarray
    tariff_revenue: np.ndarray
    exports: np.ndarray
    imports: np.ndarray
    bilateral_trade: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray
    failed_mask: np.ndarray
    seed: int
    chunk_size: int
    seconds: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def regions(self) -> tuple[str, ...]:
        return self.point.regions

    @property
    def sectors(self) -> tuple[str, ...]:
        return self.point.sectors

    @property
    def draws(self) -> int:
        return int(self.theta.shape[0])

    @property
    def failed(self) -> int:
        """Number of draws that did not converge (excluded from the bands, never dropped silently)."""
        return int(self.failed_mask.sum())

    @property
    def ev_usd(self) -> np.ndarray:
        """Equivalent variation by draw, USD mn: ``(welfare_hat - 1) * I0``."""
        return (self.welfare_hat - 1.0) * self.point.baseline.income_usd

    def _array(self, name: str) -> np.ndarray:
        if name not in _REGION_ARRAYS + ("bilateral_trade",):
            raise DataError(f"bands: unknown quantity {name!r}; known: {', '.join(_REGION_ARRAYS + ('bilateral_trade',))}")
        return getattr(self, name)

    def _point(self, name: str) -> np.ndarray:
        eq = self.point
        off = eq.flows * (1 - np.eye(len(eq.regions)))[:, :, None]
        return {
            "welfare_hat": eq.welfare_hat, "ev_usd": eq.ev_usd, "wage_hat": eq.wage_hat, "income": eq.income,
            "tariff_revenue": eq.tariff_revenue, "exports": off.sum(axis=(1, 2)), "imports": off.sum(axis=(0, 2)),
            "bilateral_trade": eq.flows.sum(axis=2),
        }[name]

    def bands(self, name: str = "welfare_hat", quantiles: Sequence[float] = QUANTILES):
        """Tidy table of quantiles over the converged draws (polars).

        Columns: ``region`` (or ``exporter``, ``importer`` for ``bilateral_trade``),
        ``q05``, ``q50``, ``q95`` (one per quantile), ``point`` (the point estimate),
        ``draws`` (converged draws used) and ``failed``.

        Examples
        --------
        >>> import tariffsim as ts, warnings
        >>> w = ts.load_world("world_io_7x44_2017")
        >>> t = w.tariffs_with(importer="USA", exporter="JPN", add=0.24)
        >>> mc = ts.monte_carlo(w, tariffs=t, draws=8, theta_sd=0.0)
        >>> mc.bands("welfare_hat").columns
        ['region', 'q05', 'q50', 'q95', 'point', 'draws', 'failed']
        """
        import polars as pl

        q = [float(x) for x in quantiles]
        if not q or any(not 0 <= x <= 1 for x in q):
            raise DataError("bands: quantiles must lie in [0, 1]")
        a = self._array(name)[~self.failed_mask]
        vals = np.quantile(a, q, axis=0) if a.shape[0] else np.full((len(q),) + a.shape[1:], np.nan)
        cols = {f"q{round(100 * x):02d}": vals[k].reshape(-1) for k, x in enumerate(q)}
        pt = self._point(name).reshape(-1)
        if name == "bilateral_trade":
            n = len(self.regions)
            lab = {"exporter": [r for r in self.regions for _ in range(n)], "importer": list(self.regions) * n}
        else:
            lab = {"region": list(self.regions)}
        return pl.DataFrame({**lab, **cols, "point": pt, "draws": [int(a.shape[0])] * pt.shape[0],
                             "failed": [self.failed] * pt.shape[0]})

    def summary(self):
        """Welfare change bands in percent by region (polars), for people."""
        import polars as pl

        b = self.bands("welfare_hat")
        qs = [c for c in b.columns if c.startswith("q")] + ["point"]
        return b.with_columns([((pl.col(c) - 1) * 100).alias(c) for c in qs]).rename(
            {c: f"welfare_change_pct_{c}" for c in qs})

    def __repr__(self) -> str:
        b = self.bands("welfare_hat")
        parts = [f"{r} {100 * (lo - 1):+.3f}..{100 * (hi - 1):+.3f}%"
                 for r, lo, hi in zip(b["region"][:8], b["q05"][:8], b["q95"][:8])]
        more = "" if len(self.regions) <= 8 else ", ..."
        return (f"MonteCarloResult(welfare 5-95%: {', '.join(parts)}{more}; draws={self.draws}, "
                f"failed={self.failed}, {self.seconds:.2f} s)")


# --------------------------------------------------------------------------- entry point
def monte_carlo(
    world: World,
    *,
    tariffs: np.ndarray | None,
    draws: int = 10_000,
    theta_sd: float | np.ndarray | Mapping[str, float] | None = None,
    seed: int = 0,
    chunk_size: int | None = None,
    closure: str = "fixed",
    deficits: np.ndarray | Mapping[str, float] | None = None,
    theta: np.ndarray | None = None,
    theta_draws: np.ndarray | None = None,
    max_failed_share: float = 0.05,
    progress: bool = False,
    model: str = "caliendo_parro",
    **model_options: Any,
) -> MonteCarloResult:
    """Solve a GE counterfactual for many draws of the trade elasticities.

    ``model="ilms2025"`` hands every argument to :func:`tariffsim.scale.montecarlo_ilms.monte_carlo`
    (draws of the ILMS trade elasticity eps; ``theta_sd``/``theta_draws`` are eps's spread/draws there,
    while ``theta``, ``deficits`` and ``**model_options`` are the ILMS model's own options).

    Parameters
    ----------
    world : baseline economy.
    tariffs : (N, N, S) new tariffs (as for :func:`tariffsim.solve`; ``None``: the world's own).
    draws : number of elasticity draws.
    theta_sd : standard deviation of ``theta`` (a number, one per sector, or
        ``{sector: sd}``). Default: published standard errors where known, else 25%
        of ``theta`` (module docstring). ``0`` gives the point estimate in every draw.
    seed : random seed; the same seed gives the same draws and bands.
    chunk_size : draws per compiled batch (memory bound); default
        :func:`default_chunk_size`. Results do not depend on it beyond rounding.
    closure, deficits : as for :func:`tariffsim.solve`.
    theta : centre of the distribution (default: the world's ``theta``).
    theta_draws : (draws, S) elasticities to use as given (overrides the drawing).
    max_failed_share : raise :class:`~tariffsim.errors.ConvergenceError` if more
        draws than this share fail; below it, failures are counted in ``failed``
        and reported with a :class:`FailedDrawsWarning`.
    progress : show a rich progress bar.

    Returns
    -------
    MonteCarloResult with ``welfare_hat`` (draws, regions), trade and revenue arrays,
    ``bands(name)`` and ``failed``.

    Examples
    --------
    >>> import tariffsim as ts
    >>> w = ts.load_world("world_io_7x44_2017")
    >>> t = w.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    >>> mc = ts.monte_carlo(w, tariffs=t, draws=16, theta_sd=0.0)
    >>> bool(abs(mc.bands()["q95"] - mc.point.welfare_hat).max() < 1e-10), mc.failed
    (True, 0)
    """
    if model != "caliendo_parro" or model_options:    # another family: its own Monte Carlo (MC_FAMILIES)
        if model not in MC_FAMILIES:
            raise ScenarioError(f"monte_carlo: model {model!r} has no Monte Carlo; models: caliendo_parro, "
                                f"{', '.join(MC_FAMILIES)}" if model != "caliendo_parro" else
                                f"monte_carlo: model 'caliendo_parro' takes no option {sorted(model_options)[0]!r}")
        mod, _, attr = MC_FAMILIES[model].partition(":")
        extra = {k: v for k, v in (("theta", theta), ("deficits", deficits)) if v is not None}
        return getattr(importlib.import_module(mod), attr)(
            world, tariffs=tariffs, draws=draws, seed=seed, closure=closure, theta_sd=theta_sd, theta_draws=theta_draws,
            chunk_size=chunk_size, max_failed_share=max_failed_share, progress=progress, **extra, **model_options)
    t_start = time.perf_counter()
    theta0 = np.asarray(world.theta if theta is None else theta, dtype=float)
    if theta0.shape == ():
        theta0 = np.full(world.n_sectors, float(theta0))
    point = ge.solve(world, tariffs=tariffs, closure=closure, deficits=deficits, theta=theta0)
    if theta_draws is not None:
        th = np.asarray(theta_draws, dtype=float)
        if th.ndim != 2 or th.shape[1] != world.n_sectors or th.shape[0] < 1:
            raise DataError(f"theta_draws: expected shape (draws, {world.n_sectors}), got {th.shape}")
        if not np.isfinite(th).all() or (th <= 0).any():
            raise DataError("theta_draws: every elasticity must be finite and > 0")
        sd, src = th.std(axis=0), ("theta_draws",) * world.n_sectors
    else:
        if int(draws) < 1:
            raise DataError(f"draws must be >= 1, got {draws}")
        if int(seed) < 0:
            raise DataError(f"seed must be >= 0, got {seed}")
        sd, src = _theta_sd(world, theta0, theta_sd)
        th = draw_theta(theta0, sd, int(draws), int(seed))
    if not 0 <= max_failed_share <= 1:
        raise DataError(f"max_failed_share must lie in [0, 1], got {max_failed_share}")
    cs = default_chunk_size() if chunk_size is None else int(chunk_size)
    if cs < 1:
        raise DataError(f"chunk_size must be >= 1, got {chunk_size}")

    p = ge.make_params(world, tariffs, closure=closure, deficits=deficits, theta=theta0)
    x0 = np.log(point.wage_hat)                     # warm start: the point estimate's wages
    J0 = _kernel.reference_jacobian(p, jnp.asarray(x0), has_io=world.has_io)
    # warm start: the point estimate's wages, prices and spending (measured: see docs/performance.md)
    warm = (np.log(point.price_hat), point.expenditure)
    res = _run(p, {"theta": th}, x0, J0, world.has_io, cs, progress, "Monte Carlo draws", warm=warm)

    ok = res["ok"]
    nfail = int((~ok).sum())
    if nfail > max_failed_share * th.shape[0]:
        raise ConvergenceError(
            f"monte_carlo: {nfail} of {th.shape[0]} draws did not converge (max residual "
            f"{np.nanmax(np.where(ok, 0, res['residual'])):.3g}, tolerance {ge.ACCEPT_TOL:g}); "
            f"raise max_failed_share to keep the others")
    if nfail:
        warnings.warn(f"monte_carlo: {nfail} of {th.shape[0]} draws did not converge; excluded from the bands",
                      FailedDrawsWarning, stacklevel=2)
    out = {}
    for k in ("welfare_hat", "wage_hat", "income", "tariff_revenue", "exports", "imports", "bilateral_trade"):
        a = np.array(res[k], dtype=float)
        a[~ok] = np.nan
        out[k] = _ro(a)
    return MonteCarloResult(
        point=point, theta0=_ro(theta0), theta_sd=_ro(sd), theta_sd_source=tuple(src), theta=_ro(th),
        residual=_ro(res["residual"]), iterations=_ro(res["iterations"]), failed_mask=_ro(~ok),
        seed=int(seed), chunk_size=cs, seconds=time.perf_counter() - t_start,
        meta={"distribution": "given" if theta_draws is not None else "lognormal(mean=theta0, sd=theta_sd)",
              "closure": point.closure, "world": world.name, "backend": jax.default_backend()},
        **out,
    )


def _run(p, batched, x0, J0, has_io, chunk_size, progress, label, warm=None):
    n = next(iter(batched.values())).shape[0]
    if not progress:
        return _kernel.solve_batched(p, batched, x0=x0, J0=J0, has_io=has_io, chunk_size=chunk_size, warm=warm)
    from rich.progress import Progress

    with Progress(transient=False) as bar:
        task = bar.add_task(label, total=n)
        return _kernel.solve_batched(p, batched, x0=x0, J0=J0, has_io=has_io, chunk_size=chunk_size,
                                     on_chunk=lambda k: bar.advance(task, k), warm=warm)
