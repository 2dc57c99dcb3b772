"""Monte Carlo bands for the ILMS (2025) model: draws of the trade elasticity ε (and optionally κ).

``ts.monte_carlo(world, tariffs=..., model="ilms2025", draws=..., seed=...)`` lands here
(:func:`monte_carlo`). The model, its options and its equilibrium are those of
:mod:`tariffsim.models.ilms`; this module only draws parameters, solves every draw and
returns the same :class:`~tariffsim.scale.montecarlo.MonteCarloResult` as the
Caliendo-Parro Monte Carlo (a subclass whose point estimate is an
:class:`~tariffsim.models.ilms.ILMSEquilibrium`), so bands and reports need no special case.

What is drawn (documented default)
----------------------------------
The trade elasticity ε, which drives the terms-of-trade gains of a tariff and hence the
paper's headline numbers (the optimal tariff ``t* = 1/((1 + δε)φ - 1)``)::

    ε ~ LogNormal  with  E[ε] = ε0,  SD[ε] = cv ε0,
    log ε ~ Normal(mu, v),  v = log(1 + cv^2),  mu = log ε0 - v/2       (as the CP draws of theta)

with ``ε0`` the bound model's ε (4 for the paper: ``main_baseline.m``) and by default
``cv = DEFAULT_EPS_CV = 0.529``: the log-normal of mean ε0 whose 95th percentile is exactly
``2 ε0``, so at ε0 = 4 the paper's own robustness value ε = 8 (``ilms_paper.VARIANTS["eps8"]``,
Table 9) is the upper end of the 90% band; its 5th percentile is 1.56 (SD 2.11, median 3.53).
The width is a modelling choice, not an estimate: the replication package publishes no
standard error of ε. Because no
standard error is known, the default is announced by an
:class:`~tariffsim.errors.ElasticityFallbackWarning` (as the CP fallback is); give
``eps_sd=`` (or ``theta_sd=``, the generic name of :func:`tariffsim.monte_carlo`) to
choose, ``0`` for none, or ``eps_draws=`` for any other distribution.

The labour-supply elasticity κ (0.5) is **not drawn by default** (``kappa_sd=0``): the
paper has no robustness check on it to anchor a spread. ``kappa_sd > 0`` draws it
log-normal in the same way, independently of ε (column 2 of the same standard-normal
matrix, so ε's draws do not change when κ is drawn).

Every other parameter is rebuilt per draw exactly as :func:`tariffsim.models.ilms.bind`
does for ``eps=ε_d, kappa=κ_d``: the non-wage shares ν are calibrated from flows and GDP
only (``ilms_data.solve_nu``: they do not depend on ε), and bind keeps ψ = 0.67/4 and the
Fréchet θ = 4/0.67 behind φ at their ε = 4 values whatever ε is (as the authors' ε = 8
variant does). So draw d is ``bind_model(world, "ilms2025", eps=ε_d, kappa=κ_d, **options)``
solved at ``tariffs`` (tested against that direct path). ``scale_with_eps=True`` instead
keeps the ratios of the construction, ψ_d = 0.67/ε_d and θ_d = ε_d/0.67 with φ_d rebuilt
from θ_d (``ilms.calc_pass_through``), i.e. ``bind(eps=ε_d, psi=0.67/ε_d, theta=ε_d/0.67)``.

How it is solved
----------------
``method="batched"`` (default where it applies: ``closure="fixed"``, no roundabout
production): the bound model's kernel parameters with ε, κ, ψ, φ replaced per draw go
through one jit-compiled ``jax.vmap`` of :func:`tariffsim.models.ilms.solve_forward`
(Newton with the analytic Jacobian), started at the point estimate's ``(log ŵ, log L̂)``,
in chunks of ``chunk_size`` draws (``scale._kernel.map_chunks``: the last padded by repeating its final draw). Draws the
batch does not certify are re-solved one by one from a cold start through ``bind``.
``method="serial"`` (and always for ``closure="balanced"``, which re-solves the
zero-deficit baseline of every draw, and for ``value_added_share < 1``): a loop of
``bind(...).solve``. A draw is accepted only when its equilibrium residual is at most
:data:`tariffsim.models.ilms.ACCEPT_TOL` (1e-9) and its results are finite; the others are
NaN rows, counted in ``failed``, warned (:class:`FailedDrawsWarning`) or, above
``max_failed_share``, a :class:`~tariffsim.errors.ConvergenceError`.

Measured (docs/uncertainty.md): 194 countries, USTR tariffs, see the table there.

References
----------
Ignatenko, A., A. Lashkaripour, L. Macedoni and I. Simonovska (2025), "Making America Great
Again? The Economic Impacts of Liberation Day Tariffs", Journal of International Economics
157, 104138; replication package (July 2025), ``main_baseline.m`` (ε = 4, κ = 0.5, ψ = 0.67/ε,
θ = ε/0.67) and the ε = 8 robustness run.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConvergenceError, DataError, ElasticityFallbackWarning, ScenarioError
from ..models import ilms
from ..models.base import bind_model
from ..models.dispatch import check_options
from ..world import World
from . import _kernel
from .montecarlo import FailedDrawsWarning, MonteCarloResult, draw_theta

MODEL = "ilms2025"
#: Standard-normal 95th percentile.
_Z95 = 1.6448536269514722
#: Coefficient of variation of ε by default: the mean-ε0 log-normal whose 95th percentile is 2 ε0
#: (sigma solves z95 sigma - sigma^2/2 = log 2, the smaller root; cv = sqrt(exp(sigma^2) - 1) = 0.529).
DEFAULT_EPS_SIGMA = _Z95 - math.sqrt(_Z95 ** 2 - 2.0 * math.log(2.0))
DEFAULT_EPS_CV = math.sqrt(math.expm1(DEFAULT_EPS_SIGMA ** 2))
#: ψ ε and ε / θ of the model's construction (ψ = 0.67/ε, θ = ε/0.67).
SCALE_RATIO = ilms.PSI * ilms.EPS
METHODS = ("auto", "batched", "serial")
#: Keep (draws, N, N) bilateral flows by default only below this many numbers (256 MB).
_BILATERAL_LIMIT = 2 ** 25


@dataclass(frozen=True, eq=False, repr=False)
class ILMSMonteCarloResult(MonteCarloResult):
    """:class:`MonteCarloResult` of the ILMS model (same fields, bands and quantiles).

    ``point`` is the :class:`~tariffsim.models.ilms.ILMSEquilibrium` at the point estimate;
    ``theta0``, ``theta_sd``, ``theta`` hold ε (one "sector"); κ's draws are ``meta["kappa"]``.
    ``income`` is the model's income Y' = ŵ L̂ Y (``ILMSEquilibrium.income``); EV is
    ``(Ŵ - 1) E`` with baseline absorption E (``ILMSEquilibrium.ev_usd``).
    """

    @property
    def sectors(self) -> tuple[str, ...]:
        return tuple(self.meta["sectors"])

    @property
    def ev_usd(self) -> np.ndarray:
        return (self.welfare_hat - 1.0) * self.point.base_expenditure

    def _array(self, name: str) -> np.ndarray:
        if name == "bilateral_trade" and self.bilateral_trade.shape[1:] != (len(self.regions),) * 2:
            raise DataError("bands: bilateral_trade was not kept (draws x N x N too large); "
                            "pass keep_bilateral=True to monte_carlo")
        return super()._array(name)

    def _point(self, name: str) -> np.ndarray:
        eq = self.point
        off = eq.flows * (1 - np.eye(len(eq.regions)))
        return {
            "welfare_hat": eq.welfare_hat, "ev_usd": eq.ev_usd, "wage_hat": eq.wage_hat, "income": eq.income,
            "tariff_revenue": eq.tariff_revenue, "exports": off.sum(axis=1), "imports": off.sum(axis=0),
            "bilateral_trade": eq.flows,
        }[name]


def default_chunk_size() -> int:
    """Draws per compiled batch: 1 on CPU (measured on 194 countries: larger vmapped batches of the
    388-unknown Newton solve are no faster per draw there, docs/uncertainty.md), 1024 on accelerators (unmeasured)."""
    return 1 if jax.default_backend() == "cpu" else 1024


def _ro(a, dtype=float) -> np.ndarray:
    a = np.array(a, dtype=dtype, copy=True)
    a.flags.writeable = False
    return a


def _sd(value, name: str) -> float:
    if isinstance(value, Mapping):
        if len(value) != 1:
            raise DataError(f"{name}: the ILMS model has one sector; give one number")
        value = next(iter(value.values()))
    a = np.asarray(value, dtype=float).reshape(-1)
    if a.shape != (1,) or not np.isfinite(a).all() or a[0] < 0:
        raise DataError(f"{name}: expected one finite number >= 0, got {value!r}")
    return float(a[0])


def draw_parameters(eps0: float, eps_sd: float, kappa0: float, kappa_sd: float, draws: int, seed: int) -> np.ndarray:
    """``(draws, 2)`` draws of ``(ε, κ)``: independent log-normals with means ``(ε0, κ0)`` and SDs
    ``(eps_sd, kappa_sd)`` (:func:`tariffsim.scale.montecarlo.draw_theta`); an SD of 0 gives the mean exactly."""
    if kappa_sd > 0 and kappa0 <= 0:
        raise DataError("kappa_sd > 0 needs kappa > 0 (log-normal draws around kappa)")
    k0 = kappa0 if kappa0 > 0 else 1.0                 # placeholder centre: kappa_sd == 0 keeps it exact below
    d = draw_theta(np.array([eps0, k0]), np.array([eps_sd, kappa_sd]), int(draws), int(seed))
    d[:, 1] = np.where(kappa_sd == 0, kappa0, d[:, 1])
    return d


# --------------------------------------------------------------------------- batched kernel
@partial(jax.jit, static_argnames=("lump_sum", "numeraire", "keep_bilateral"))
def _solve_chunk(base: ilms.ILMSParams, eps, kappa, psi, phi, z0, lump_sum: bool, numeraire: str,
                 keep_bilateral: bool) -> dict:
    """vmap over draws of ``(eps, kappa, psi, phi)``: Newton from ``z0``, outcomes, residual."""
    n = base.E.shape[0]
    off = 1.0 - jnp.eye(n)

    def one(e, k, s, f):
        p = base._replace(eps=e, kappa=k, psi=s, phi=f)
        z, res, it = ilms.solve_forward(p, z0, lump_sum, False, numeraire)
        o = ilms._outcomes(z, p, lump_sum, False)     # noqa: SLF001 - the model's own outcome map, one definition
        trade = o["X1"] * off
        out = {"welfare_hat": o["welfare"], "wage_hat": o["w"], "income": o["income1"],
               "tariff_revenue": o["revenue"], "exports": trade.sum(axis=1), "imports": trade.sum(axis=0),
               "residual": res, "iterations": it}
        if keep_bilateral:
            out["bilateral_trade"] = o["X1"]
        return out

    return jax.vmap(one)(eps, kappa, psi, phi)


def _batched(m0: Any, t: np.ndarray, point: ilms.ILMSEquilibrium, params: dict, chunk_size: int,
             keep_bilateral: bool, on_chunk=None) -> dict:
    """Solve every draw's parameters (``params``: arrays with a leading draw axis) in padded chunks."""
    base = m0.evaluate.keywords["p"]._replace(t1=jnp.asarray(t[:, :, 0]))
    if not isinstance(base, ilms.ILMSParams):
        raise DataError("monte_carlo(model='ilms2025'): not an ILMS bound model")
    lump = m0.options["revenue"] == "lump_sum"
    z0 = jnp.asarray(np.concatenate([np.log(point.wage_hat), np.log(point.employment_hat)]))
    n_draws = params["eps"].shape[0]

    def one(pos: np.ndarray) -> dict:
        c = {k: jnp.asarray(v[pos]) for k, v in params.items()}
        return _solve_chunk(base, c["eps"], c["kappa"], c["psi"], c["phi"], z0, lump_sum=lump,
                            numeraire=m0.options["numeraire"], keep_bilateral=keep_bilateral)

    # one chunk at a time: each draw's dense solves already use the multithreaded BLAS
    return _kernel.map_chunks(one, n_draws, chunk_size, on_chunk=on_chunk, workers=1)


# --------------------------------------------------------------------------- serial path
def _serial_one(world: World, t: np.ndarray, closure: str, options: dict, keep_bilateral: bool) -> dict:
    """One draw through the independent path: ``bind_model(...).solve`` (cold start); NaN when not certified."""
    try:
        eq = bind_model(world, MODEL, closure=closure, **options).solve(t, throw=False)
        res, it = float(eq.residual), int(eq.iterations)
    except ConvergenceError as exc:                      # the balanced rebase of this draw failed
        n = world.n_regions
        nan = np.full(n, np.nan)
        out = {k: nan for k in ("welfare_hat", "wage_hat", "income", "tariff_revenue", "exports", "imports")}
        if keep_bilateral:
            out["bilateral_trade"] = np.full((n, n), np.nan)
        return {**out, "residual": np.inf if exc.residual is None else exc.residual, "iterations": 0}
    off = eq.flows * (1 - np.eye(len(eq.regions)))
    out = {"welfare_hat": eq.welfare_hat, "wage_hat": eq.wage_hat, "income": eq.income,
           "tariff_revenue": eq.tariff_revenue, "exports": off.sum(axis=1), "imports": off.sum(axis=0),
           "residual": res, "iterations": it}
    if keep_bilateral:
        out["bilateral_trade"] = eq.flows
    return out


def _draw_options(options: dict, eps: float, kappa: float, scale_with_eps: bool) -> dict:
    o = {**options, "eps": float(eps), "kappa": float(kappa)}
    if scale_with_eps:
        o["psi"] = SCALE_RATIO / float(eps)
        o["theta"] = float(eps) / SCALE_RATIO
    return o


def _accepted(r: dict) -> np.ndarray:
    ok = np.isfinite(r["residual"]) & (r["residual"] <= ilms.ACCEPT_TOL)
    for k in ("welfare_hat", "wage_hat", "income", "tariff_revenue", "exports", "imports"):
        ok &= np.isfinite(r[k]).all(axis=1)
    return ok


# --------------------------------------------------------------------------- entry point
def monte_carlo(
    world: World,
    *,
    tariffs: np.ndarray | None,
    draws: int = 10_000,
    seed: int = 0,
    closure: str = "fixed",
    eps_sd: float | None = None,
    theta_sd: float | None = None,
    eps_draws: np.ndarray | None = None,
    theta_draws: np.ndarray | None = None,
    kappa_sd: float = 0.0,
    scale_with_eps: bool = False,
    chunk_size: int | None = None,
    method: str = "auto",
    keep_bilateral: bool | None = None,
    max_failed_share: float = 0.05,
    progress: bool = False,
    **options: Any,
) -> ILMSMonteCarloResult:
    """Solve an ILMS (2025) counterfactual for many draws of ε (and κ); module docstring for the distribution.

    Parameters
    ----------
    world : baseline world (as for ``bind_model(world, "ilms2025")``; e.g. ``world_2023_aggregate``).
    tariffs : (N, N, 1) new tariffs (``None``: the world's own, zero).
    draws, seed : number of draws; the same seed gives the same draws (fewer draws are a prefix).
    closure : ``"fixed"`` (default, the paper's) or ``"balanced"`` (every draw re-solves its zero-deficit baseline).
    eps_sd : SD of ε (default ``DEFAULT_EPS_CV`` × ε0, with an ElasticityFallbackWarning); ``theta_sd`` is its
        generic name in :func:`tariffsim.monte_carlo` (give one of them).
    eps_draws : (draws,) or (draws, 1) values of ε to use as given (``theta_draws``: generic name).
    kappa_sd : SD of κ (default 0: not drawn).
    scale_with_eps : rebuild ψ = 0.67/ε and θ = ε/0.67 (hence φ) per draw; default: keep them, as ``bind``.
    chunk_size : draws per compiled batch (default :func:`default_chunk_size`).
    method : ``"auto"`` (batched where it applies), ``"batched"`` or ``"serial"`` (a loop of ``bind().solve``).
    keep_bilateral : keep the (draws, N, N) flows for ``bands("bilateral_trade")`` (default: when they
        take at most 256 MB).
    max_failed_share : raise ConvergenceError above this share of failed draws.
    progress : rich progress bar.
    **options : the model's options (``bind_model(world, "ilms2025", **options)``): ``revenue``, ``eps``
        (the centre ε0), ``kappa`` (κ0), ``nu``, ``theta`` (Fréchet shape), ``deficits``, ...

    Examples
    --------
    >>> import tariffsim as ts
    >>> from tariffsim.models.ilms_data import ustr_tariffs
    >>> w = ts.load_world("world_2023_aggregate")
    >>> t = ustr_tariffs(ts.bind_model(w, "ilms2025", closure="fixed").world)
    >>> mc = ts.monte_carlo(w, tariffs=t, model="ilms2025", draws=4, theta_sd=0.0)
    >>> bool(abs(mc.bands()["q95"] - mc.point.welfare_hat).max() < 1e-10), mc.failed
    (True, 0)
    """
    t_start = time.perf_counter()
    if method not in METHODS:
        raise ScenarioError(f"monte_carlo(model='ilms2025'): method must be one of {', '.join(METHODS)}, got {method!r}")
    if eps_sd is not None and theta_sd is not None:
        raise ScenarioError("monte_carlo(model='ilms2025'): give eps_sd or theta_sd (its generic name), not both")
    if eps_draws is not None and theta_draws is not None:
        raise ScenarioError("monte_carlo(model='ilms2025'): give eps_draws or theta_draws (its generic name), not both")
    if scale_with_eps and ({"psi", "theta", "pass_through"} & set(options)):
        raise ScenarioError("monte_carlo(model='ilms2025'): scale_with_eps rebuilds psi and theta (and phi) per draw; "
                            "do not also give psi, theta or pass_through")
    if method == "batched" and closure != "fixed":
        raise ScenarioError("monte_carlo(model='ilms2025'): method='batched' needs closure='fixed' (the balanced "
                            "closure re-solves each draw's baseline); use method='serial'")
    check_options(MODEL, {"closure": closure, **options}, where="monte_carlo")
    sd_in = eps_sd if eps_sd is not None else theta_sd
    given = eps_draws if eps_draws is not None else theta_draws
    if not 0 <= max_failed_share <= 1:
        raise DataError(f"max_failed_share must lie in [0, 1], got {max_failed_share}")

    m0 = bind_model(world, MODEL, closure=closure, **options)
    t = m0.base_tariffs if tariffs is None else np.asarray(tariffs, dtype=float)
    point = m0.solve(t)                                  # the point estimate must converge (ConvergenceError)
    t = np.asarray(point.tariffs)
    eps0, kappa0 = float(m0.options["eps"]), float(m0.options["kappa"])
    k_sd = _sd(kappa_sd, "kappa_sd")
    if given is not None:
        e = np.asarray(given, dtype=float)
        e = e[:, 0] if e.ndim == 2 and e.shape[1] == 1 else e
        if e.ndim != 1 or e.shape[0] < 1 or not np.isfinite(e).all() or (e <= 0).any():
            raise DataError(f"eps_draws: expected (draws,) finite values > 0, got shape {np.shape(given)}")
        if k_sd > 0:
            raise ScenarioError("monte_carlo(model='ilms2025'): kappa_sd is not used with eps_draws")
        sd, src, dist = float(e.std()), "eps_draws", "given"
        pars = np.column_stack([e, np.full(e.shape[0], kappa0)])
    else:
        if int(draws) < 1:
            raise DataError(f"draws must be >= 1, got {draws}")
        if int(seed) < 0:
            raise DataError(f"seed must be >= 0, got {seed}")
        if sd_in is None:
            warnings.warn(f"monte_carlo(model='ilms2025'): no standard error of eps is published with the model; "
                          f"using a {DEFAULT_EPS_CV:.1%} coefficient of variation (DEFAULT_EPS_CV: 95th percentile "
                          f"2 eps0 = {2 * eps0:g}, the paper's robustness value at eps0 = 4)", ElasticityFallbackWarning, stacklevel=3)
            sd, src = DEFAULT_EPS_CV * eps0, f"ilms_default_cv_{DEFAULT_EPS_CV:.3f}"
        else:
            sd, src = _sd(sd_in, "eps_sd"), "given"
        pars = draw_parameters(eps0, sd, kappa0, k_sd, int(draws), int(seed))
        dist = "lognormal(mean=eps0, sd=eps_sd); kappa " + (f"lognormal(mean={kappa0:g}, sd={k_sd:g})" if k_sd else "fixed")
    n_draws, n = pars.shape[0], m0.world.n_regions
    keep = (n_draws * n * n <= _BILATERAL_LIMIT) if keep_bilateral is None else bool(keep_bilateral)
    batchable = closure == "fixed" and float(m0.options["value_added_share"]) == 1.0
    if method == "batched" and not batchable:
        raise ScenarioError("monte_carlo(model='ilms2025'): method='batched' needs no roundabout production "
                            "(value_added_share = 1); use method='serial'")
    use = "batched" if method in ("auto", "batched") and batchable else "serial"
    cs = default_chunk_size() if chunk_size is None else int(chunk_size)
    if cs < 1:
        raise DataError(f"chunk_size must be >= 1, got {chunk_size}")

    # the completed world (meta ilms_nu): per-draw binds reuse it, exactly what bind builds from ``world``
    wc = m0.world if closure == "fixed" else bind_model(world, MODEL, closure="fixed", **options).world
    bar = _Bar(progress, n_draws)
    if use == "batched":
        nu = np.asarray(m0.options["nu"])
        e = pars[:, 0]
        if scale_with_eps:
            psi = SCALE_RATIO / e
            phi = np.stack([ilms.calc_pass_through(nu, theta=x / SCALE_RATIO,
                                                   offset=float(options.get("pass_through_offset", 1.0))) for x in e])
        else:
            psi = np.full(n_draws, float(m0.options["psi"]))
            phi = np.broadcast_to(np.asarray(m0.options["phi"]), (n_draws, n))
        res = _batched(m0, t, point, {"eps": e, "kappa": pars[:, 1], "psi": psi, "phi": phi}, cs, keep, bar.advance)
        ok = _accepted(res)
        retried = np.nonzero(~ok)[0]
        for d in retried:                                 # the independent path from a cold start
            r = _serial_one(wc, t, closure, _draw_options(options, pars[d, 0], pars[d, 1], scale_with_eps), keep)
            for k in res:
                res[k][d] = r[k]
    else:
        rows = []
        for d in range(n_draws):
            rows.append(_serial_one(wc, t, closure, _draw_options(options, pars[d, 0], pars[d, 1], scale_with_eps),
                                    keep))
            bar.advance(1)
        res = {k: np.stack([np.asarray(r[k], dtype=float) for r in rows]) for k in rows[0]}
        retried = np.zeros(0, dtype=int)
    bar.close()

    ok = _accepted(res)
    nfail = int((~ok).sum())
    if nfail > max_failed_share * n_draws:
        raise ConvergenceError(
            f"monte_carlo(model='ilms2025'): {nfail} of {n_draws} draws did not converge (tolerance "
            f"{ilms.ACCEPT_TOL:g}); raise max_failed_share to keep the others")
    if nfail:
        warnings.warn(f"monte_carlo(model='ilms2025'): {nfail} of {n_draws} draws did not converge; excluded from "
                      "the bands", FailedDrawsWarning, stacklevel=3)
    out = {}
    for k in ("welfare_hat", "wage_hat", "income", "tariff_revenue", "exports", "imports"):
        a = np.array(res[k], dtype=float)
        a[~ok] = np.nan
        out[k] = _ro(a)
    bil = np.array(res["bilateral_trade"], dtype=float) if keep else np.zeros((n_draws, 0, 0))
    bil[~ok] = np.nan
    return ILMSMonteCarloResult(
        point=point, theta0=_ro([eps0]), theta_sd=_ro([sd]), theta_sd_source=(src,), theta=_ro(pars[:, :1]),
        bilateral_trade=_ro(bil), residual=_ro(res["residual"]), iterations=_ro(res["iterations"]),
        failed_mask=_ro(~ok, bool), seed=int(seed), chunk_size=cs, seconds=time.perf_counter() - t_start,
        meta={"model": MODEL, "distribution": dist, "closure": closure, "world": world.name,
              "backend": jax.default_backend(), "method": use, "retried_serially": int(retried.size),
              "sectors": tuple(m0.world.sectors), "kappa0": kappa0, "kappa_sd": k_sd, "kappa": _ro(pars[:, 1]),
              "scale_with_eps": bool(scale_with_eps), "options": {k: v for k, v in options.items()},
              "spread_note": spread_note(eps0, sd, src, k_sd)},
        **out,
    )


def spread_note(eps0: float, sd: float, source: str, kappa_sd: float = 0.0) -> str:
    """One sentence on what was drawn, for reports."""
    if source == "eps_draws":
        s = "Trade elasticity eps: the draws given (eps_draws)."
    else:
        v = math.log1p((sd / eps0) ** 2)
        mu = math.log(eps0) - v / 2
        lo, hi = math.exp(mu - _Z95 * math.sqrt(v)), math.exp(mu + _Z95 * math.sqrt(v))
        why = (" (documented default: no standard error of eps is published; the upper end is the paper's "
               "robustness value eps = 2 x eps0)" if source.startswith("ilms_default_cv_") else "")
        s = (f"Trade elasticity eps log-normal, mean {eps0:g}, SD {sd:.3g} (5-95%: {lo:.2f}-{hi:.2f}){why}; "
             "psi, phi and nu as the model binds them.")
    return s + (f" Labour-supply elasticity kappa log-normal, SD {kappa_sd:g}." if kappa_sd else
                " Labour-supply elasticity kappa fixed.")


class _Bar:
    """Optional rich progress bar over draws."""

    def __init__(self, on: bool, total: int) -> None:
        self._p = None
        if on:
            from rich.progress import Progress

            self._p = Progress(transient=False)
            self._p.start()
            self._task = self._p.add_task("Monte Carlo draws (ilms2025)", total=total)

    def advance(self, k: int) -> None:
        if self._p is not None:
            self._p.advance(self._task, k)

    def close(self) -> None:
        if self._p is not None:
            self._p.stop()


__all__ = ["DEFAULT_EPS_CV", "ILMSMonteCarloResult", "SCALE_RATIO", "default_chunk_size", "draw_parameters", "monte_carlo",
           "spread_note"]
