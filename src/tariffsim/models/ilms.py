"""The Liberation Day model: Ignatenko, Macedoni, Lashkaripour and Simonovska (2025).

A one-sector multi-country trade model with elastic labour supply, non-wage
income, flexible tariff pass-through and deficits fixed as a share of world
income, solved in changes exactly as the authors' ``Balanced_Trade_EQ``
(``code/analysis/main_baseline.m``). Exporter i, importer j; baseline tariffs are
zero, so ``tau_hat = 1 + t``. Data (``ilms_data``): trade shares
``lambda[i, j] = X[i, j] / E_j``, absorption ``E``, income ``Y``, deficits ``T = E - Y``,
non-wage shares ``nu``. Parameters: trade elasticity ``eps`` (4), labour-supply
elasticity ``kappa`` (0.5), ``psi = 0.67/eps`` (scale effects of employment),
Fréchet ``theta = eps/0.67`` and pass-through ``phi_j = 1 + phi~_j`` with
``phi~_j = (1 + theta) / ((1 - nu_j) theta) - 1/theta - 1`` (the importer's).

Equilibrium in the unknowns ``w_hat, L_hat`` (and ``E_hat``, eliminated below)::

    lambda'[i,j] = lambda[i,j] (w_hat_i / L_hat_i^psi)^-eps (1+t[i,j])^(-eps phi_j)
                   / sum_k lambda[k,j] (w_hat_k / L_hat_k^psi)^-eps (1+t[k,j])^(-eps phi_j)   (gravity, l.301-303)
    P_hat_j      = (E_hat_j / w_hat_j)^(1 - phi_j) (sum_k lambda[k,j] (...)^-eps (...))^(-1/eps)   (price index, l.309)
    X'[i,j]      = lambda'[i,j] E'_j / (1 + t[i,j]),   R'_j = sum_i t[i,j] X'[i,j]          (flows, revenue, l.311-312)
    w_hat_i L_hat_i Y_i = sum_j (1-nu_j) X'[i,j] + nu_i sum_k X'[k,i]                       (income = sales, l.329)
    E'_j         = R'_j + w_hat_j L_hat_j Y_j + T_j (sum_k w_hat_k L_hat_k Y_k / sum_k Y_k)   (budget, deficits fixed
                                                                                            as a share of world income, l.338)
    L_hat_i      = (tau_hat_i w_hat_i / P_hat_i)^kappa                                       (labour supply, l.342)

with the income-tax relief ``tau_hat_i = 1 / (1 - R'_i / Y'_i)`` (revenue cuts the
labour-income tax; ``revenue="income_tax"``, the default) or ``tau_hat = 1``
(``revenue="lump_sum"``; l.314-322). The budget is linear in ``E'`` given ``(w, L)``:
``E'_j = (Y'_j + T_j s) / (1 - r_j)`` with ``r_j = sum_i lambda'[i,j] t/(1+t)``, so the
kernel solves 2N equations. One labour-market condition is redundant (Walras);
the authors replace the last by the numeraire ``sum_i E_i (P_hat_i - 1) = 0`` (l.330).
Welfare (the indirect utility of a worker-consumer with disutility of labour, as
coded, l.346-347)::

    delta_i = E_i / (E_i - kappa (1 - tau_i) Y_i / (1 + kappa)),  tau_i = R'_i / Y'_i  (0 with lump sum)
    W_hat_i = delta_i E_hat_i / P_hat_i + (1 - delta_i) w_hat_i L_hat_i / P_hat_i

Optimal uniform tariff of country i, others passive (l.161-162)::

    t*_i = 1 / ((1 + delta_i eps) phi_i - 1),
    delta_i = sum_{j != i} X[i,j] (1-nu_j) (1 - lambda[i,j]) / ((1 - nu_i) (E_i - X[i,i]))

(:func:`closed_form_optimal_tariff`). Line numbers (l.) are those of
``main_baseline.m`` in the replication package, from which the equations are
transcribed: the code is what produced the published tables. The JIE article's text
was not accessible here, so its equation numbers are not given (docs/ilms2025.md).

Variants (``main_baseline.m``, ``main_io.m``, ``main_deficit.m``), as options of
:func:`bind`: Eaton-Kortum (``nu=0`` gives ``phi = 1``), ``eps=8`` (psi and phi
keep their eps = 4 values, as the authors' code does), incomplete pass-through
(``pass_through_offset=0.25`` or ``0.5``: ``phi = offset + phi~``), one-sector
roundabout production (``value_added_share=0.49``: unit cost
``c = w^beta P^(1-beta)``, entry ``(w/P)^(1-beta)``, the price index as an unknown,
numeraire world GDP-weighted wages, as ``Balanced_Trade_IO``), and the deficit
closures of Table 10 (``closure="fixed"`` the paper's; ``deficits=`` any given
deficits, fixed as a share of world income; ``closure="balanced"`` rebases to the
zero-deficit equilibrium first, as tariffsim's Caliendo-Parro binding). The
multi-sector variant needs ITPD-S sectoral data that tariffsim does not ship; it is
left out.

With ``kappa = 0``, ``nu = 0`` and ``phi = 1`` the model is the one-sector Armington /
Eaton-Kortum model with fixed deficits: exactly tariffsim's Caliendo-Parro model
(va = 1, closure "fixed") on the same data (tested to 1e-9).

Solution: safeguarded Newton in logs with the exact JAX Jacobian
(:func:`tariffsim.solve.roots.newton_root`), differentiable in the tariffs by the
implicit function theorem; an unconverged solve raises
:class:`~tariffsim.errors.ConvergenceError` (``solve``) or returns NaN welfare
(``evaluate``, which the strategy layer turns into an error).

References
----------
Ignatenko, A., A. Lashkaripour, L. Macedoni and I. Simonovska (2025), "Making America
Great Again? The Economic Impacts of Liberation Day Tariffs", Journal of International
Economics 157, 104138; replication package (July 2025): ``main_baseline.m``
(``Balanced_Trade_EQ``, ``solveNu``), ``main_io.m`` (``Balanced_Trade_IO``),
``main_deficit.m``.
Dekle, R., J. Eaton and S. Kortum (2008), "Global Rebalancing with Gravity", IMF Staff
Papers 55(3) (deficits fixed relative to world income).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Any, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConvergenceError, DataError, ScenarioError
from ..solve.roots import newton_root
from ..world import World
from .base import BoundModel
from .ilms_data import calc_income, dataset_gdp_usd, ilms_world

jax.config.update("jax_enable_x64", True)

TOL = 1e-12          # Newton tolerance (max abs residual, relative units)
ACCEPT_TOL = 1e-9
MAX_NEWTON = 60
EPS = 4.0            # trade elasticity (main_baseline.m)
KAPPA = 0.5          # labour-supply elasticity
PSI = 0.67 / EPS     # scale elasticity of employment
THETA = EPS / 0.67   # Fréchet shape behind the pass-through
REVENUE = ("income_tax", "lump_sum")
CLOSURES = ("fixed", "balanced")


# --------------------------------------------------------------------------- parameters
class ILMSParams(NamedTuple):
    """Kernel arrays (a pytree). Exporter x importer; baseline tariffs are zero."""

    lam: jnp.ndarray     # (N, N) baseline trade shares X / E_importer
    E: jnp.ndarray       # (N,) baseline absorption
    Y: jnp.ndarray       # (N,) baseline income
    T0: jnp.ndarray      # (N,) baseline deficits E - Y (welfare uses Y + T0)
    D: jnp.ndarray       # (N,) counterfactual deficits (scaled by world income)
    nu: jnp.ndarray      # (N,) non-wage income shares
    phi: jnp.ndarray     # (N,) pass-through (importer's)
    eps: jnp.ndarray     # () trade elasticity
    kappa: jnp.ndarray   # () labour-supply elasticity
    psi: jnp.ndarray     # () scale elasticity
    beta: jnp.ndarray    # () value-added share (1: no roundabout production)
    t1: jnp.ndarray      # (N, N) new tariffs


def calc_pass_through(nu: np.ndarray, *, theta: float = THETA, offset: float = 1.0) -> np.ndarray:
    """``phi = offset + phi~`` with ``phi~ = (1 + theta) / ((1 - nu) theta) - 1/theta - 1`` (main_baseline.m l.60)."""
    nu = np.asarray(nu, dtype=float)
    return offset + (1.0 + theta) / ((1.0 - nu) * theta) - 1.0 / theta - 1.0


def make_params(X: np.ndarray, nu: np.ndarray, *, eps: float, kappa: float, psi: float, phi: np.ndarray,
                beta: float = 1.0, deficits: np.ndarray | None = None) -> ILMSParams:
    """Kernel parameters from the completed flow matrix ``X`` (exporter x importer) and ``nu``.

    Without roundabout production (``beta = 1``): ``E = sum_i X[i, :]``,
    ``Y = sum_j (1-nu_j) X[:, j] + nu E`` and ``T = E - Y``. With it (``main_io.m``
    l.29-35): domestic flows are grossed up to include intermediates,
    ``X[i, i] / beta``, ``Y = beta sum_j (1-nu_j) X[:, j] + nu E`` and
    ``T = E - Y - (1-beta) sum_j (1-nu_j) X[:, j]``.
    """
    X = np.array(X, dtype=float)
    if beta != 1.0:
        X[np.diag_indices_from(X)] = np.diag(X) / beta
    E = X.sum(axis=0)
    sales = ((1.0 - nu)[None, :] * X).sum(axis=1)
    Y = beta * sales + nu * E
    T = E - Y - (1.0 - beta) * sales
    lam = X / E[None, :]
    D = T if deficits is None else np.asarray(deficits, dtype=float)
    f = partial(jnp.asarray, dtype=jnp.float64)
    return ILMSParams(lam=f(lam), E=f(E), Y=f(Y), T0=f(T), D=f(D), nu=f(nu), phi=f(phi), eps=f(eps),
                      kappa=f(kappa), psi=f(psi), beta=f(beta), t1=jnp.zeros_like(f(lam)))


# --------------------------------------------------------------------------- pure math
def calc_trade(log_p: jnp.ndarray, p: ILMSParams) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Gravity (l.301-303): new shares ``lambda'`` and ``log S_j = log sum_k lambda[k,j] p_hat_k^-eps (1+t)^(-eps phi_j)``,
    with ``log p_hat_i`` the exporter's effective price change."""
    a = -p.eps * log_p[:, None] - p.eps * p.phi[None, :] * jnp.log1p(p.t1)
    has = p.lam > 0
    amax = jnp.max(jnp.where(has, a, -jnp.inf), axis=0)
    s = jnp.sum(jnp.where(has, p.lam * jnp.exp(a - amax[None, :]), 0.0), axis=0)
    log_s = jnp.log(s) + amax
    lam1 = jnp.where(has, p.lam * jnp.exp(a - log_s[None, :]), 0.0)
    return lam1, log_s


def calc_log_price_index(log_e_hat, x, log_s, p: ILMSParams) -> jnp.ndarray:
    """``log P_hat_j = (1 - phi_j)(log E_hat_j - log w_hat_j) - log S_j / eps`` (l.309)."""
    return (1.0 - p.phi) * (log_e_hat - x) - log_s / p.eps


def calc_log_tax_relief(revenue, income1, lump_sum: bool):
    """``log tau_hat = -log(1 - R'/Y')`` (income-tax relief) or 0 (lump-sum rebate)."""
    return jnp.zeros_like(income1) if lump_sum else -jnp.log1p(-revenue / income1)


def _parts(z, p: ILMSParams, lump_sum: bool, io: bool):
    """Every equilibrium quantity at unknowns ``z``: ``(x, l)`` without IO, ``(x, l, log P, log E_hat)`` with IO."""
    n = p.E.shape[0]
    x, l = z[:n], z[n:2 * n]
    w, L = jnp.exp(x), jnp.exp(l)
    income1 = w * L * p.Y
    share = jnp.sum(income1) / jnp.sum(p.Y)              # world income change: deficits fixed as its share
    tt = p.t1 / (1.0 + p.t1)
    if io:
        lp, le = z[2 * n:3 * n], z[3 * n:]
        log_c = p.beta * x + (1.0 - p.beta) * lp         # unit cost w^beta P^(1-beta)
        log_entry = (1.0 - p.beta) * (x - lp)            # entry (w/P)^(1-beta)
        lam1, log_s = calc_trade(log_c - p.psi * (log_entry + l), p)
        E1 = p.E * jnp.exp(le)
    else:
        lam1, log_s = calc_trade(x - p.psi * l, p)
        r = jnp.sum(lam1 * tt, axis=0)
        E1 = (income1 + p.D * share) / (1.0 - r)
        le = jnp.log(E1 / p.E)
        lp = calc_log_price_index(le, x, log_s, p)
    X1 = lam1 * E1[None, :] / (1.0 + p.t1)
    revenue = jnp.sum(lam1 * tt * E1[None, :], axis=0)
    return dict(x=x, l=l, lp=lp, le=le, w=w, L=L, lam1=lam1, log_s=log_s, E1=E1, X1=X1, revenue=revenue,
                income1=income1, share=share)


def _residual(z, p: ILMSParams, lump_sum: bool, io: bool, numeraire: str):
    """Equilibrium conditions (module docstring), scaled by baseline income/absorption."""
    q = _parts(z, p, lump_sum, io)
    X1, nu = q["X1"], p.nu
    sales = jnp.sum((1.0 - nu)[None, :] * X1, axis=1)
    labour = (p.beta * sales + nu * jnp.sum(X1, axis=0) - q["income1"]) / p.Y
    if numeraire == "price":
        norm = jnp.sum(p.E * (jnp.exp(q["lp"]) - 1.0)) / jnp.sum(p.E)
    else:
        norm = jnp.sum(p.Y * (q["w"] - 1.0)) / jnp.sum(p.Y)
    labour = labour.at[-1].set(norm)
    supply = q["l"] - p.kappa * (calc_log_tax_relief(q["revenue"], q["income1"], lump_sum) + q["x"] - q["lp"])
    out = [labour, supply]
    if io:
        budget = (q["revenue"] + q["income1"] + (1.0 - p.beta) * sales + p.D * q["share"] - q["E1"]) / p.E
        price = q["lp"] - calc_log_price_index(q["le"], q["x"], q["log_s"], p)
        out += [budget, price]
    return jnp.concatenate(out)


def _outcomes(z, p: ILMSParams, lump_sum: bool, io: bool) -> dict:
    """Welfare (l.346-347) and the reported changes at the solution ``z``."""
    q = _parts(z, p, lump_sum, io)
    P = jnp.exp(q["lp"])
    tau = jnp.zeros_like(q["revenue"]) if lump_sum else q["revenue"] / q["income1"]
    Ec = p.Y + p.T0                                          # consumer spending (= E without IO)
    Ec1 = q["revenue"] + q["income1"] + p.D * q["share"]
    delta = Ec / (Ec - p.kappa * (1.0 - tau) * p.Y / (1.0 + p.kappa))
    welfare = delta * (Ec1 / Ec) / P + (1.0 - delta) * q["w"] * q["L"] / P
    return dict(q, P=P, welfare=welfare)


def _jacobian_noio(z, p: ILMSParams, lump_sum: bool, numeraire: str) -> jnp.ndarray:
    """Analytic Jacobian of :func:`_residual` without roundabout production (2N x 2N, two N^3 products).

    Everything depends on ``z = (x, l)`` through the exporter prices ``g = -eps (x - psi l)``
    (``dg/dx = -eps I``, ``dg/dl = eps psi I``), the incomes ``Y' = w L Y`` (``dY'/dx = dY'/dl =
    diag(Y')``) and the world income change ``s`` (``ds/dx = ds/dl = Y'/sum Y``). So each row
    block is ``dq/dx = -eps A + C + u s_z + (direct)`` and ``dq/dl = eps psi A + C + u s_z +
    (direct)`` with ``A = dq/dg``, ``C = dq/dY'`` and ``u = dq/ds``. With new shares ``lambda'``,
    ``d lambda'[i,j]/dg_k = lambda'[i,j] (delta_ik - lambda'[k,j])``, hence
    ``dr_j/dg_k = lambda'[k,j] (tt[k,j] - r_j)``, ``d log S_j/dg_k = lambda'[k,j]``, and the
    producer sales ``sum_j B[i,j] E'_j`` (``B = (1-nu_j) lambda'/(1+t)``) have
    ``A = diag(rowsum M) - M lambda'^T + B dE'/dg`` with ``M = B E'``;
    ``E' = (Y' + D s) / (1 - r)`` gives ``dE'``.
    """
    n = p.E.shape[0]
    q = _parts(z, p, lump_sum, False)
    lam1, E1, inc = q["lam1"], q["E1"], q["income1"]
    tt = p.t1 / (1.0 + p.t1)
    r = jnp.sum(lam1 * tt, axis=0)
    sv = inc / jnp.sum(p.Y)                                  # ds/dx = ds/dl
    one_r = 1.0 - r
    Rg = (lam1 * (tt - r[None, :])).T                        # dr/dg
    A_E = (E1 / one_r)[:, None] * Rg                         # dE'/dg
    c_E = inc / one_r                                        # dE'/dY' (diagonal)
    u_E = p.D / one_r                                        # dE'/ds
    A_lp = (1.0 - p.phi)[:, None] * A_E / E1[:, None] - lam1.T / p.eps
    c_lp = (1.0 - p.phi) * c_E / E1
    u_lp = (1.0 - p.phi) * u_E / E1
    B = (1.0 - p.nu)[None, :] * lam1 / (1.0 + p.t1)
    M = B * E1[None, :]
    A_sales = jnp.diag(jnp.sum(M, axis=1)) - M @ lam1.T + B @ A_E
    C_sales = B * c_E[None, :]
    u_sales = B @ u_E
    A_imp = one_r[:, None] * A_E - E1[:, None] * Rg
    c_imp = one_r * c_E
    u_imp = one_r * u_E
    A_lab = (p.beta * A_sales + p.nu[:, None] * A_imp) / p.Y[:, None]
    C_lab = (p.beta * C_sales + jnp.diag(p.nu * c_imp - inc)) / p.Y[:, None]
    u_lab = (p.beta * u_sales + p.nu * u_imp) / p.Y
    if lump_sum:
        A_ltr, c_ltr, u_ltr = jnp.zeros((n, n)), jnp.zeros(n), jnp.zeros(n)
    else:
        tau = q["revenue"] / inc
        k = 1.0 / ((1.0 - tau) * inc)
        A_ltr = k[:, None] * (E1[:, None] * Rg + r[:, None] * A_E)
        c_ltr = k * (r * c_E - tau * inc)
        u_ltr = k * r * u_E
    A_sup = -p.kappa * (A_ltr - A_lp)
    c_sup = -p.kappa * (c_ltr - c_lp)
    u_sup = -p.kappa * (u_ltr - u_lp)
    eye = jnp.eye(n)
    lab_x = -p.eps * A_lab + C_lab + jnp.outer(u_lab, sv)
    lab_l = p.eps * p.psi * A_lab + C_lab + jnp.outer(u_lab, sv)
    # numeraire row (the last labour condition)
    if numeraire == "price":
        wgt = p.E * jnp.exp(q["lp"]) / jnp.sum(p.E)
        base = wgt @ (jnp.diag(c_lp) + jnp.outer(u_lp, sv))
        norm_x = -p.eps * (wgt @ A_lp) + base - wgt * (1.0 - p.phi)
        norm_l = p.eps * p.psi * (wgt @ A_lp) + base
    else:
        norm_x = p.Y * q["w"] / jnp.sum(p.Y)
        norm_l = jnp.zeros(n)
    lab_x = lab_x.at[-1].set(norm_x)
    lab_l = lab_l.at[-1].set(norm_l)
    sup_common = jnp.diag(c_sup) + jnp.outer(u_sup, sv)
    sup_x = -p.eps * A_sup + sup_common - p.kappa * (2.0 - p.phi)[:, None] * eye
    sup_l = p.eps * p.psi * A_sup + sup_common + eye
    return jnp.block([[lab_x, lab_l], [sup_x, sup_l]])


class ILMSSolution(NamedTuple):
    z: jnp.ndarray
    welfare: jnp.ndarray
    residual: jnp.ndarray
    iterations: jnp.ndarray


def solve_forward(p: ILMSParams, z0: jnp.ndarray, lump_sum: bool, io: bool, numeraire: str,
                  max_iter: int = MAX_NEWTON) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """Root ``z*`` of the equilibrium conditions, no derivatives: ``(z*, residual, iterations)``.

    Newton with the analytic Jacobian (:func:`_jacobian_noio`); with roundabout production
    Broyden's method from one ``jax.jacfwd`` Jacobian (Newton as fallback is the caller's).
    """
    ps = jax.lax.stop_gradient(p)
    F = partial(_residual, p=ps, lump_sum=lump_sum, io=io, numeraire=numeraire)
    jac = None if io else partial(_jacobian_noio, p=ps, lump_sum=lump_sum, numeraire=numeraire)
    z, res, it = newton_root(F, jax.lax.stop_gradient(z0), tol=TOL, max_iter=max_iter,
                             method="broyden" if io else "newton", jac=jac)
    return jax.lax.stop_gradient(z), res, it


def equilibrium(p: ILMSParams, z0: jnp.ndarray, lump_sum: bool, io: bool, numeraire: str,
                max_iter: int = MAX_NEWTON) -> ILMSSolution:
    """Solve the equilibrium (pure, jit-able, differentiable in ``p`` by the implicit function theorem).

    After the forward solve, one Newton step at the root with the Jacobian held fixed,
    ``z = z* - J^-1 F(z*, p)``: its value is ``z*`` (F = 0) and its derivative
    ``-J^-1 dF/dp`` is exactly the implicit-function derivative, in forward and reverse mode.
    """
    z_star, res, it = solve_forward(p, z0, lump_sum, io, numeraire, max_iter)
    ps = jax.lax.stop_gradient(p)
    J = jax.lax.stop_gradient(jax.jacfwd(_residual)(z_star, ps, lump_sum, io, numeraire) if io
                              else _jacobian_noio(z_star, ps, lump_sum, numeraire))
    z = z_star - jnp.linalg.solve(J, _residual(z_star, p, lump_sum, io, numeraire))
    return ILMSSolution(z, _outcomes(z, p, lump_sum, io)["welfare"], res, it)


_forward_jit = jax.jit(solve_forward, static_argnames=("lump_sum", "io", "numeraire", "max_iter"))
_outcomes_jit = jax.jit(_outcomes, static_argnames=("lump_sum", "io"))


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class ILMSEquilibrium:
    """A counterfactual of the ILMS (2025) model relative to the bound baseline.

    Changes are hats (new / old); money in USD millions; ``flows`` pre-tariff.
    """

    regions: tuple[str, ...]
    tariffs: np.ndarray          # (N, N, 1)
    welfare_hat: np.ndarray
    wage_hat: np.ndarray
    employment_hat: np.ndarray
    expenditure_hat: np.ndarray
    price_hat: np.ndarray
    flows: np.ndarray            # (N, N) new pre-tariff flows
    base_flows: np.ndarray       # (N, N) baseline flows
    income: np.ndarray           # new income Y'
    base_income: np.ndarray
    base_expenditure: np.ndarray
    tariff_revenue: np.ndarray
    residual: float
    iterations: int
    seconds: float
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def deficit(self) -> np.ndarray:
        """New trade deficit (imports - exports, pre-tariff), USD mn."""
        return self.flows.sum(axis=0) - self.flows.sum(axis=1)

    @property
    def base_deficit(self) -> np.ndarray:
        return self.base_flows.sum(axis=0) - self.base_flows.sum(axis=1)

    def _off(self, a):
        return a * (1.0 - np.eye(len(self.regions)))

    # the result columns every GE family shares (tariffsim.models.ge.Equilibrium.summary)
    @property
    def closure(self) -> str:
        return str(self.options.get("closure", "fixed"))

    @property
    def ev_usd(self) -> np.ndarray:
        """Equivalent variation ``(W_hat - 1) E``, USD mn: welfare change times baseline absorption
        ``E = Y + T`` (spending, as ``Equilibrium.ev_usd`` uses baseline income including deficits)."""
        return (self.welfare_hat - 1.0) * self.base_expenditure

    @property
    def real_wage_hat(self) -> np.ndarray:
        """``w_hat / P_hat`` (pre-tax wage over the consumer price index)."""
        return self.wage_hat / self.price_hat

    @property
    def trade_balance(self) -> np.ndarray:
        """Exports minus imports (pre-tariff), USD mn: ``-deficit``."""
        return -self.deficit

    @property
    def exports_change_pct(self) -> np.ndarray:
        """Change of exports (off-diagonal flows, pre-tariff), percent."""
        return 100.0 * (self._off(self.flows).sum(axis=1) / self._off(self.base_flows).sum(axis=1) - 1.0)

    @property
    def imports_change_pct(self) -> np.ndarray:
        """Change of imports (off-diagonal flows, pre-tariff), percent."""
        return 100.0 * (self._off(self.flows).sum(axis=0) / self._off(self.base_flows).sum(axis=0) - 1.0)

    @property
    def deficit_change_pct(self) -> np.ndarray:
        """``100 (D' - D) / |D|`` (the authors' ``d_D_i``)."""
        return 100.0 * (self.deficit - self.base_deficit) / np.abs(self.base_deficit)

    @property
    def exports_to_gdp_change_pct(self) -> np.ndarray:
        return 100.0 * ((self._off(self.flows).sum(axis=1) / self.income)
                        / (self._off(self.base_flows).sum(axis=1) / self.base_income) - 1.0)

    @property
    def imports_to_gdp_change_pct(self) -> np.ndarray:
        return 100.0 * ((self._off(self.flows).sum(axis=0) / self.income)
                        / (self._off(self.base_flows).sum(axis=0) / self.base_income) - 1.0)

    @property
    def revenue_share_of_gdp(self) -> np.ndarray:
        """Tariff revenue over baseline absorption (the authors' column 7, Table 3 "% of GDP")."""
        return self.tariff_revenue / self.base_expenditure

    @property
    def global_trade_to_gdp_change_pct(self) -> float:
        """Change of world trade (tariff-inclusive) relative to world income (Table 11)."""
        new = (self._off(self.flows) * (1.0 + self.tariffs[:, :, 0])).sum() / self.income.sum()
        return float(100.0 * (new / (self._off(self.base_flows).sum() / self.base_income.sum()) - 1.0))

    @property
    def global_employment_change_pct(self) -> float:
        """Income-weighted employment change (Table 11)."""
        return float(100.0 * ((self.employment_hat - 1.0) * self.base_income).sum() / self.base_income.sum())

    def table(self) -> dict[str, np.ndarray]:
        """The authors' result columns by region, percent (``results`` of ``Balanced_Trade_EQ``)."""
        return {
            "welfare": 100.0 * (self.welfare_hat - 1.0),
            "deficit": self.deficit_change_pct,
            "exports_to_gdp": self.exports_to_gdp_change_pct,
            "imports_to_gdp": self.imports_to_gdp_change_pct,
            "employment": 100.0 * (self.employment_hat - 1.0),
            "prices": 100.0 * (self.price_hat - 1.0),
            "revenue_to_gdp": 100.0 * self.revenue_share_of_gdp,
        }

    def average(self, regions=None, *, weights: str = "expenditure") -> dict[str, float]:
        """Average of :meth:`table` over ``regions`` (default: all but the US), weighted by baseline
        absorption as the authors' "non-US (average)" rows (``weights="mean"``: simple mean)."""
        if regions is None:
            regions = [r for r in self.regions if r != "USA"]
        idx = np.array([self.regions.index(r) for r in regions])
        wt = np.ones(len(idx)) if weights == "mean" else self.base_expenditure[idx]
        return {k: float((v[idx] * wt).sum() / wt.sum()) for k, v in self.table().items()}

    def summary(self):
        """Tidy table (polars) by region: the authors' columns in percent, then the columns of
        :meth:`tariffsim.models.ge.Equilibrium.summary` (EV, real wage, trade, revenue and balance in USD mn)."""
        import polars as pl

        authors = {f"{k}_change_pct" if k != "revenue_to_gdp" else "revenue_to_gdp_pct": v for k, v in self.table().items()}
        return pl.DataFrame({"region": list(self.regions), **authors,
                             "ev_usd_mn": self.ev_usd, "real_wage_change_pct": 100.0 * (self.real_wage_hat - 1.0),
                             "wage_hat": self.wage_hat, "exports_change_pct": self.exports_change_pct,
                             "imports_change_pct": self.imports_change_pct, "tariff_revenue_usd_mn": self.tariff_revenue,
                             "trade_balance_usd_mn": self.trade_balance})

    def __repr__(self) -> str:
        k = self.regions.index("USA") if "USA" in self.regions else 0
        return (f"ILMSEquilibrium({self.regions[k]} welfare {100 * (self.welfare_hat[k] - 1):+.3f}%, "
                f"residual={self.residual:.1e}, iterations={self.iterations}, {1e3 * self.seconds:.1f} ms)")


# --------------------------------------------------------------------------- closed forms
def export_supply_delta(X: np.ndarray, nu: np.ndarray, *, base: str = "expenditure") -> np.ndarray:
    """``delta_i = sum_{j!=i} X[i,j](1-nu_j)(1-lambda[i,j]) / ((1-nu_i)(E_i - X[i,i]))`` (main_baseline.m l.161);
    ``base="income"`` uses ``Y_i - X[i,i]`` in the denominator, as the code's Table 2 panel 4 (l.237)."""
    X = np.asarray(X, dtype=float)
    E = X.sum(axis=0)
    lam = X / E[None, :]
    off = 1.0 - np.eye(X.shape[0])
    size = E if base == "expenditure" else calc_income(X, nu)
    return (X * (1.0 - nu)[None, :] * off * (1.0 - lam)).sum(axis=1) / ((1.0 - nu) * (size - np.diag(X)))


def closed_form_optimal_tariff(model: BoundModel, country: str = "USA", *, base: str = "expenditure") -> float:
    """Optimal uniform import tariff of ``country`` with passive partners:
    ``t* = 1 / ((1 + delta eps) phi - 1)`` evaluated at the bound model's baseline (l.161-162)."""
    o = model.options
    i = model.world.index(country)
    X = np.asarray(model.world.flows[:, :, 0])
    delta = export_supply_delta(X, np.asarray(o["nu"]), base=base)
    return float(1.0 / ((1.0 + delta[i] * o["eps"]) * np.asarray(o["phi"])[i] - 1.0))


def closed_form_retaliation(model: BoundModel, country: str = "USA") -> float:
    """The rest of the world's optimal tariff on ``country`` (main_baseline.m l.184-194): the closed form for the
    rest aggregated to one region, ``1 / ((1 + delta_rest eps) phi_rest - 1)``, with delta from the
    two-region aggregate (denominator ``Y - X_rest,rest``, as coded)."""
    o = model.options
    k = model.world.index(country)
    X = np.asarray(model.world.flows[:, :, 0])
    nu = np.asarray(o["nu"])
    n = X.shape[0]
    agg = np.zeros((2, n))
    agg[0] = 1.0
    agg[0, k] = 0.0
    agg[1, k] = 1.0
    Xa = agg @ X @ agg.T
    Y = agg @ calc_income(X, nu)
    nua = np.array([np.delete(nu, k)[0], nu[k]])
    lam = Xa / Xa.sum(axis=0)[None, :]
    off = 1.0 - np.eye(2)
    delta = (Xa * (1.0 - nua)[None, :] * off * (1.0 - lam)).sum(axis=1) / ((1.0 - nua) * (Y - np.diag(Xa)))
    phi_rest = float(np.delete(np.asarray(o["phi"]), k)[0])
    return float(1.0 / ((1.0 + delta[0] * o["eps"]) * phi_rest - 1.0))


def retaliation_tariffs(tariffs: np.ndarray, country: str, regions, rate: float | np.ndarray | None = None) -> np.ndarray:
    """Every partner's tariff on ``country``: ``rate`` (uniform), or reciprocal (``rate=None``:
    ``t[country, j] = t[j, country]``, main_baseline.m l.215)."""
    t = np.array(tariffs, dtype=float)
    k = list(regions).index(country)
    t[k, :, 0] = t[:, k, 0] if rate is None else rate
    t[k, k, 0] = 0.0
    return t


# --------------------------------------------------------------------------- binding
def _scalar(v, name: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ScenarioError(f"model 'ilms2025': {name} must be a number, got {v!r}") from None
    if not np.isfinite(f):
        raise ScenarioError(f"model 'ilms2025': {name} must be finite")
    return f


def _vector(v, n: int, name: str) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    if a.shape == ():
        a = np.full(n, float(a))
    if a.shape != (n,) or not np.isfinite(a).all():
        raise ScenarioError(f"model 'ilms2025': {name} needs one finite value per region ({n})")
    return a


def _baseline_world(world: World, gdp_usd) -> tuple[World, np.ndarray | None]:
    """The world whose flows are the authors' matrix, and nu from its meta (None: to calibrate)."""
    if "ilms_nu" in world.meta:
        return world, np.asarray(world.meta["ilms_nu"], dtype=float)
    if gdp_usd is None and "gdp_usd" in world.meta:
        gdp_usd = world.meta["gdp_usd"]
    if gdp_usd is None:
        try:
            gdp_usd = dataset_gdp_usd(world)
        except DataError:
            return world, None
    w = ilms_world(world, gdp_usd=gdp_usd)
    return w, np.asarray(w.meta["ilms_nu"], dtype=float)


def bind(world: World, *, closure: str = "fixed", weights: str = "none", revenue: str = "income_tax",
         eps: float | None = None, kappa: float = KAPPA, psi: float = PSI, theta: float = THETA,
         nu=None, pass_through=None, pass_through_offset: float = 1.0, value_added_share: float = 1.0,
         deficits=None, strict_deficits: bool = True, numeraire: str | None = None, gdp_usd=None) -> BoundModel:
    """Bind the ILMS (2025) model to ``world`` (registered as model ``"ilms2025"``).

    Parameters
    ----------
    world : a one-sector world with zero baseline tariffs. If it carries
        ``meta["ilms_nu"]`` (built by :func:`tariffsim.models.ilms_data.ilms_world`) its flows
        are used as they are; otherwise, if GDP is known (``gdp_usd``, ``meta["gdp_usd"]`` or
        the dataset's ``gdp`` table, as for ``world_2023_aggregate``), the authors' data
        construction is applied to its off-diagonal flows; else its flows are used as given and
        nu is 0 unless given.
    closure : ``"fixed"`` (deficits fixed as a share of world income, the paper's) or
        ``"balanced"`` (rebased first to the zero-deficit equilibrium; welfare relative to it).
    revenue : ``"income_tax"`` (tariff revenue cuts the labour-income tax) or ``"lump_sum"``.
    eps : trade elasticity (default: the world's theta, 4 for world_2023_aggregate).
    kappa, psi, theta : labour-supply elasticity, scale elasticity, Fréchet shape (pass-through).
    nu : non-wage income shares (scalar or per region; default calibrated / meta).
    pass_through : phi (scalar or per region) overriding ``pass_through_offset + phi~(nu)``.
    value_added_share : beta < 1 switches on roundabout production (main_io.m; 0.49 there).
    deficits : new deficits (USD mn, sum zero) instead of the baseline ones (still fixed as a
        share of world income).
    strict_deficits : reject ``deficits`` that do not sum to zero (default). Table 10's
        "balanced" deficits of the authors' code do not (by the US's nu-adjusted deficit); with
        ``False`` they are used as given, and the last country's labour market, replaced by
        the numeraire, absorbs the gap, exactly as in their code.
    numeraire : ``"price"`` (world absorption-weighted price index, main_baseline.m) or
        ``"wage"`` (world GDP-weighted wage, main_io.m); default by variant as the authors.
    """
    if weights != "none":
        raise ScenarioError("model 'ilms2025' has no political-economy weights; use weights='none'")
    if closure not in CLOSURES:
        raise ScenarioError(f"closure for model 'ilms2025' must be one of {', '.join(CLOSURES)}, got {closure!r}")
    if revenue not in REVENUE:
        raise ScenarioError(f"revenue must be one of {', '.join(REVENUE)}, got {revenue!r}")
    if not isinstance(world, World):
        raise DataError(f"world: expected a tariffsim World, got {type(world).__name__}")
    if world.n_sectors != 1 or world.has_io:
        raise ScenarioError("model 'ilms2025' is the one-sector aggregate model; the multi-sector variant needs "
                            "ITPD-S data that tariffsim does not ship")
    if np.abs(world.tariffs).max() > 0:
        raise ScenarioError("model 'ilms2025': the baseline must have zero tariffs (the authors' 2023 baseline; "
                            "its revenue-recycling rule is written for it)")
    beta = _scalar(value_added_share, "value_added_share")
    if not 0 < beta <= 1:
        raise ScenarioError("model 'ilms2025': value_added_share must lie in (0, 1]")
    io = beta < 1.0
    numeraire = numeraire or ("wage" if io else "price")
    if numeraire not in ("price", "wage"):
        raise ScenarioError(f"numeraire must be 'price' or 'wage', got {numeraire!r}")
    world, nu_meta = _baseline_world(world, gdp_usd)
    n = world.n_regions
    nu_v = _vector(0.0 if nu is None and nu_meta is None else (nu_meta if nu is None else nu), n, "nu")
    if ((nu_v < 0) | (nu_v >= 1)).any():
        raise ScenarioError("model 'ilms2025': nu must lie in [0, 1)")
    eps_v = _scalar(world.theta[0] if eps is None else eps, "eps")
    phi = calc_pass_through(nu_v, theta=_scalar(theta, "theta"), offset=_scalar(pass_through_offset, "pass_through_offset")) \
        if pass_through is None else _vector(pass_through, n, "pass_through")
    kappa, psi = _scalar(kappa, "kappa"), _scalar(psi, "psi")
    if eps_v <= 0 or kappa < 0 or (phi <= 0).any():
        raise ScenarioError("model 'ilms2025': need eps > 0, kappa >= 0 and pass-through > 0")
    lump = revenue == "lump_sum"
    X = np.asarray(world.flows[:, :, 0], dtype=float)
    d = None
    if deficits is not None:
        d = _vector(deficits, n, "deficits")
        if strict_deficits and abs(d.sum()) > 1e-6 * np.abs(X).sum():
            raise DataError("deficits: must sum to zero across regions")
    kw = dict(eps=eps_v, kappa=kappa, psi=psi, phi=phi, beta=beta)
    base = make_params(X, nu_v, **kw, deficits=d)
    nz = (4 if io else 2) * n
    if closure == "balanced":
        # Purge deficits first (Ossa 2014; Table 10's balanced-trade closure): the zero-tariff
        # equilibrium with D = 0 becomes the baseline, and welfare is measured against it.
        p0 = base._replace(D=jnp.zeros(n))
        z, res, it = _forward_jit(p0, jnp.zeros(nz), lump_sum=lump, io=io, numeraire=numeraire)
        if not float(res) <= ACCEPT_TOL:
            raise ConvergenceError(f"ilms2025 balanced rebase: residual {float(res):.2e}", residual=float(res),
                                   iterations=int(it))
        X = np.asarray(_outcomes_jit(z, p0, lump_sum=lump, io=io)["X1"])
        if io:
            X[np.diag_indices_from(X)] *= beta   # make_params grosses domestic flows up again
        world = replace(world, flows=_ro(X[:, :, None]), name=f"{world.name}:balanced")
        base = make_params(X, nu_v, **kw, deficits=np.zeros(n))
    options = {"closure": closure, "weights": weights, "revenue": revenue, "eps": eps_v, "kappa": kappa, "psi": psi,
               "nu": nu_v, "phi": phi, "value_added_share": beta, "numeraire": numeraire}

    # the arrays travel as a pytree inside the Partial: the strategy layer compiles once per shape
    evaluate = jax.tree_util.Partial(_evaluator(lump, io, numeraire), p=base)

    def solve(tariffs, *, throw: bool = True) -> ILMSEquilibrium:
        t = _check_tariffs(tariffs, world)
        p = base._replace(t1=jnp.asarray(t[:, :, 0]))
        t0 = time.perf_counter()
        z, res, it = _forward_jit(p, jnp.zeros(nz), lump_sum=lump, io=io, numeraire=numeraire)
        o = {k: np.asarray(v) for k, v in _outcomes_jit(z, p, lump_sum=lump, io=io).items()}
        seconds = time.perf_counter() - t0
        res, it = float(res), int(it)
        if throw and not (np.isfinite(res) and res <= ACCEPT_TOL and np.isfinite(o["welfare"]).all()):
            raise ConvergenceError(f"ilms2025: equilibrium residual {res:.2e} after {it} Newton steps "
                                   f"(tolerance {ACCEPT_TOL:g})", residual=res, iterations=it)
        X0 = np.asarray(base.lam) * np.asarray(base.E)[None, :]
        return ILMSEquilibrium(
            regions=world.regions, tariffs=t, welfare_hat=o["welfare"], wage_hat=o["w"], employment_hat=o["L"],
            expenditure_hat=o["E1"] / np.asarray(base.E), price_hat=o["P"], flows=o["X1"], base_flows=X0,
            income=o["income1"], base_income=np.asarray(base.Y), base_expenditure=np.asarray(base.E),
            tariff_revenue=o["revenue"], residual=res, iterations=it, seconds=seconds,
            options=options)

    return BoundModel(name="ilms2025", world=world, evaluate=evaluate, init_state={"z": jnp.zeros(nz)},
                      solve=solve, options=options)


@lru_cache(maxsize=None)
def _evaluator(lump_sum: bool, io: bool, numeraire: str):
    """The BoundModel contract ``(tariffs, state, p) -> (welfare, government welfare, state)`` for
    one static configuration (one function object per configuration, so jit caches hit).
    Unconverged solves give NaN welfare (the strategy layer raises ConvergenceError)."""

    def evaluate(tariffs, state, p: ILMSParams):
        q = p._replace(t1=jnp.asarray(tariffs)[:, :, 0])
        sol = equilibrium(q, jax.lax.stop_gradient(state["z"]), lump_sum, io, numeraire)
        ok = sol.residual <= ACCEPT_TOL
        w = jnp.where(ok, sol.welfare, jnp.nan)
        z_next = jnp.where(ok, jax.lax.stop_gradient(sol.z), state["z"])
        return w, w, {"z": z_next}

    return evaluate


def _check_tariffs(tariffs, world: World) -> np.ndarray:
    try:
        t = np.array(tariffs, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("tariffs: not numeric") from None
    if t.shape == world.flows.shape[:2]:
        t = t[:, :, None]
    if t.shape != world.flows.shape:
        raise DataError(f"tariffs: expected shape {world.flows.shape}, got {t.shape}")
    if not np.isfinite(t).all() or (t <= -1).any():
        raise DataError("tariffs: need finite rates > -100%")
    if np.abs(t[np.arange(world.n_regions), np.arange(world.n_regions), 0]).max() > 0:
        raise DataError("tariffs: a country's tariff on itself must be 0")
    return t


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


__all__ = ["ILMSEquilibrium", "ILMSParams", "bind", "closed_form_optimal_tariff", "closed_form_retaliation",
           "equilibrium", "export_supply_delta", "make_params", "calc_pass_through", "retaliation_tariffs"]
