"""No silent wrong equilibrium (issue 22): every result a solve returns is an equilibrium.

Each returned :class:`~tariffsim.models.ge.Equilibrium` is verified here from its
arrays (flows, spending, income, wages, prices, trade shares) against the model's
conditions (Caliendo & Parro 2015, eq. 10-14; docs/design.md §4), written out again in
numpy with nothing taken from the solver: not its residual, not its certificate,
not its price-index code. Every condition must hold to 1e-8 relative to its own
scale (a tiny country's labour market relative to that country's value added);
otherwise the solve must have raised ConvergenceError or DataError.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tariffsim.errors import ConvergenceError, DataError
from tariffsim.models.ge import solve
from tariffsim.world import World

RTOL = 1e-8


# ----------------------------------------------------------------------------- the independent check
def _log_ces_index(z: np.ndarray, pi: np.ndarray, theta: float) -> float:
    """``-1/theta log sum_i pi_i exp(-theta z_i)`` for one importer-sector.

    Where ``theta`` times the spread of ``z`` is small the plain form loses
    ``eps / theta``; there the cumulant series ``E z - theta Var z / 2 + theta^2 k3 / 6
    - theta^3 k4 / 24`` is exact to ``(theta spread)^4``.
    """
    pi = pi / pi.sum()
    mean = float(pi @ z)
    d = z - mean
    if theta * np.abs(d).max() < 1e-4:
        k2, k3, k4 = pi @ d**2, pi @ d**3, pi @ d**4 - 3 * (pi @ d**2) ** 2
        return mean - theta * k2 / 2 + theta**2 * k3 / 6 - theta**3 * k4 / 24
    a = -theta * z
    m = a.max()
    return -(m + np.log(pi @ np.exp(a - m))) / theta


def violations(eq, world: World, t1: np.ndarray, d1: np.ndarray) -> dict[str, float]:
    """Largest relative violation of each equilibrium condition at ``eq`` (numpy only)."""
    f0, t0 = np.asarray(world.flows), np.asarray(world.tariffs)
    n, s = world.n_regions, world.n_sectors
    spend0 = f0 * (1 + t0)
    pi0 = spend0 / np.where(spend0.sum(axis=0) > 0, spend0.sum(axis=0), 1.0)
    va, io, alpha, theta = world.value_added_share, world.io_share, world.final_demand_share, world.theta
    y0 = f0.sum(axis=1)
    va0 = (va * y0).sum(axis=1)
    i0 = va0 + np.einsum("ins,ins->n", t0, f0) + f0.sum(axis=(0, 2)) - f0.sum(axis=(1, 2))
    w, P, c = eq.wage_hat, eq.price_hat, eq.cost_hat
    pi1, X1, F, inc, W = eq.trade_share, eq.expenditure, eq.flows, eq.income, eq.welfare_hat
    for a in (w, P, c, pi1, X1, F, inc, W):
        if not np.isfinite(a).all():
            return {"finite": np.inf}
    if (w <= 0).any() or (P <= 0).any() or (c <= 0).any() or (F < 0).any() or (inc <= 0).any():
        return {"positive": np.inf}
    tau_hat = (1 + t1) / (1 + t0)

    def rel(x, scale):
        x, scale = np.abs(x), np.abs(scale)
        return float(np.max(np.where(scale > 0, x / np.where(scale > 0, scale, 1), np.where(x > 0, np.inf, 0))))

    out = {}
    # (10) unit costs
    out["cost"] = float(np.abs(np.log(c) - va * np.log(w)[:, None] - np.einsum("iks,ik->is", io, np.log(P))).max())
    # (11) price indices, (12) trade shares
    z = np.log(tau_hat * c[:, None, :])
    lp = np.zeros((n, s))
    for m in range(n):
        for j in range(s):
            has = pi0[:, m, j] > 0
            if has.any():
                lp[m, j] = _log_ces_index(z[has, m, j], pi0[has, m, j], float(theta[j]))
    out["price"] = float(np.abs(np.log(P) - lp).max())
    pi_exp = pi0 * np.exp(-theta[None, None, :] * (z - lp[None]))
    out["share"] = rel(pi1 - pi_exp, pi_exp)
    has_spend = pi0.sum(axis=0) > 0
    out["shares_add_up"] = float(np.abs(pi1.sum(axis=0) - 1)[has_spend].max())
    # flows at producer prices
    out["flows"] = rel(F - pi1 * X1[None] / (1 + t1), pi1 * X1[None] / (1 + t1))
    # (13) spending: intermediate + final demand, relative to the country's total spending
    y1 = F.sum(axis=1)
    x_exp = np.einsum("nsk,nk->ns", io, y1) + alpha * inc[:, None]
    out["spending"] = rel(X1 - x_exp, X1.sum(axis=1, keepdims=True) * np.ones_like(X1))
    x_flows = np.einsum("ins,ins->ns", F, 1 + t1)
    out["spending_is_purchases"] = rel(X1 - x_flows, X1.sum(axis=1, keepdims=True) * np.ones_like(X1))
    # income identity
    rev = np.einsum("ins,ins->n", t1, F)
    out["income"] = rel(inc - (w * va0 + rev + d1), w * va0 + np.abs(rev) + np.abs(d1))
    # (14) every labour market, each relative to its own value added
    out["labour"] = rel((va * y1).sum(axis=1) - w * va0, w * va0)
    out["numeraire"] = rel((w * va0).sum() - va0.sum(), va0.sum())
    # trade balance = -deficit
    off = F * (1 - np.eye(n))[:, :, None]
    out["balance"] = rel(off.sum(axis=(0, 2)) - off.sum(axis=(1, 2)) - d1, F.sum(axis=(0, 2)) + F.sum(axis=(1, 2)))
    # welfare = real income
    w_exp = inc / i0 / np.exp((alpha * np.log(P)).sum(axis=1))
    out["welfare"] = rel(W - w_exp, w_exp)
    return out


def solve_verified(world: World, tariffs=None, *, closure="fixed"):
    """Solve; the result must pass every condition, or the solve must raise. Returns eq or None."""
    t1 = np.asarray(world.tariffs if tariffs is None else tariffs, dtype=float)
    try:
        eq = solve(world, tariffs=t1, closure=closure)
    except (ConvergenceError, DataError):
        return None
    d1 = np.asarray(world.deficit_usd) if closure == "fixed" else np.zeros(world.n_regions)
    v = violations(eq, world, t1, d1)
    bad = {k: x for k, x in v.items() if not x <= RTOL}
    assert not bad, f"{world.name}: returned as converged (residual {eq.residual:.2e}) but violates {bad}"
    return eq


# ----------------------------------------------------------------------------- economies
def economy(n: int = 3, s: int = 2, *, seed: int = 0, io: bool = False, theta=4.0, tiny: float | None = None,
            tiny_at: int = 0, tariff_max: float = 0.2) -> World:
    rng = np.random.default_rng(seed)
    f = rng.uniform(1.0, 10.0, (n, n, s))
    f[np.arange(n), np.arange(n), :] = rng.uniform(30.0, 100.0, (n, s))
    if tiny is not None:
        f[tiny_at] *= tiny
        f[:, tiny_at] *= tiny
    t = rng.uniform(0.0, tariff_max, (n, n, s))
    t[np.arange(n), np.arange(n), :] = 0.0
    kw = {}
    if io:
        va = rng.uniform(0.3, 0.7, (n, s))
        shares = rng.dirichlet(np.ones(s), (n, s))           # (country, output, input)
        kw = dict(value_added_share=va, io_share=np.transpose(shares, (0, 2, 1)) * (1 - va)[:, None, :])
    regions = [f"R{k}" for k in range(n)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return World.from_arrays(regions=regions, sectors=[f"S{k}" for k in range(s)], flows=f, tariffs=t,
                                 theta=theta, name=f"economy-{seed}{'-io' if io else ''}", **kw)


def shock(world: World, *, seed: int, scale: float) -> np.ndarray:
    """Random new tariffs: base rates plus uniform draws on [0, scale] (scale 5 = up to 500 points)."""
    rng = np.random.default_rng(1000 + seed)
    t = np.array(world.tariffs) + rng.uniform(0.0, scale, world.flows.shape)
    n = world.n_regions
    t[np.arange(n), np.arange(n), :] = 0.0
    return t


def _permute(world: World, rp: np.ndarray, sp: np.ndarray) -> World:
    """The same economy with countries listed in order ``rp`` and sectors in order ``sp``."""
    f = world.flows[np.ix_(rp, rp, sp)]
    io = world.io_share[np.ix_(rp, sp, sp)] if world.has_io else None
    return World.from_arrays(regions=[world.regions[k] for k in rp], sectors=[world.sectors[k] for k in sp], flows=f,
                             tariffs=world.tariffs[np.ix_(rp, rp, sp)], theta=world.theta[sp],
                             value_added_share=world.value_added_share[np.ix_(rp, sp)], io_share=io,
                             final_demand_share=world.final_demand_share[np.ix_(rp, sp)], name=world.name)


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("io", [False, True], ids=["no_io", "io"])
def test_random_economies_and_large_shocks_are_verified_equilibria_or_raise(io):
    solved = 0
    for seed in range(3):
        w = economy(3, 2, seed=seed, io=io, theta=np.array([1.5, 8.0]))
        for scale in (0.3, 5.0):
            for closure in ("fixed", "balanced"):
                solved += solve_verified(w, shock(w, seed=seed, scale=scale), closure=closure) is not None
    assert solved >= 6          # most of these have an equilibrium: the check is not vacuous


@pytest.mark.parametrize("io", [False, True], ids=["no_io", "io"])
def test_tiny_country_in_every_position_clears_its_own_labour_market_and_permutes(io):
    base = economy(3, 2, seed=5, io=io, theta=50.0, tiny=1e-9, tiny_at=0)
    t = base.tariffs_with(importer="R1", add=0.25)
    ref = solve_verified(base, t)
    assert ref is not None
    for pos in (1, 2):            # the tiny country R0 listed second, then last
        rp = np.roll(np.arange(3), pos)            # R0 moves to index `pos`
        w = _permute(base, rp, np.arange(2))
        assert w.regions[pos] == "R0"
        eq = solve_verified(w, t[np.ix_(rp, rp, np.arange(2))])
        assert eq is not None
        np.testing.assert_allclose(eq.welfare_hat, ref.welfare_hat[rp], rtol=1e-10, atol=0)
        np.testing.assert_allclose(eq.wage_hat, ref.wage_hat[rp], rtol=1e-10, atol=0)


def test_relabelling_countries_and_sectors_permutes_every_result():
    base = economy(4, 3, seed=11, io=True, theta=np.array([2.0, 5.0, 9.0]))
    t = shock(base, seed=11, scale=0.5)
    ref = solve_verified(base, t)
    rp, sp = np.array([2, 0, 3, 1]), np.array([1, 2, 0])
    eq = solve_verified(_permute(base, rp, sp), t[np.ix_(rp, rp, sp)])
    assert ref is not None and eq is not None
    np.testing.assert_allclose(eq.welfare_hat, ref.welfare_hat[rp], rtol=1e-10, atol=0)
    np.testing.assert_allclose(eq.price_hat, ref.price_hat[np.ix_(rp, sp)], rtol=1e-10, atol=0)
    np.testing.assert_allclose(eq.flows, ref.flows[np.ix_(rp, rp, sp)], rtol=1e-9, atol=1e-12 * ref.flows.max())


def _zero_import_world(io: bool, who: str = "importer") -> World:
    w = economy(3, 2, seed=2, io=io)
    f = np.array(w.flows)
    if who == "importer":         # R0 buys only from itself but exports
        f[1:, 0, :] = 0.0
    else:                         # R0 sells only to itself but imports
        f[0, 1:, :] = 0.0
    kw = dict(value_added_share=w.value_added_share, io_share=w.io_share) if io else {}
    return World.from_arrays(regions=w.regions, sectors=w.sectors, flows=f, tariffs=w.tariffs, theta=4.0, **kw)


@pytest.mark.parametrize("io", [False, True], ids=["no_io", "io"])
@pytest.mark.parametrize("who", ["importer", "exporter"])
def test_zero_import_country_has_no_balanced_equilibrium_but_solves_with_fixed_deficits(io, who):
    w = _zero_import_world(io, who)
    t = w.tariffs_with(importer="R1", add=0.3)
    with pytest.raises(ConvergenceError, match=r"no equilibrium exists: country 'R0' "
                                               + ("imports nothing" if who == "importer" else "exports nothing")):
        solve(w, tariffs=t, closure="balanced")
    eq = solve_verified(w, t, closure="fixed")
    assert eq is not None
    # deficits that contradict the missing links are refused too: R0 cannot run the sign it needs
    d = np.zeros(3)
    d[0], d[1] = (5.0, -5.0) if who == "importer" else (-5.0, 5.0)
    with pytest.raises(ConvergenceError, match="no equilibrium exists: country 'R0'"):
        solve(w, tariffs=t, deficits=d)


def test_group_that_imports_nothing_from_outside_is_named():
    w = economy(4, 2, seed=3)
    f = np.array(w.flows)
    f[2:, :2, :] = 0.0            # R0, R1 buy nothing from R2, R3 but sell to them
    w = World.from_arrays(regions=w.regions, sectors=w.sectors, flows=f, theta=4.0)
    with pytest.raises(ConvergenceError, match=r"countries 'R0', 'R1' import nothing from the rest"):
        solve(w, closure="balanced")


@pytest.mark.parametrize("theta", [1e-12, 1e-9, 1e-6, 1e-3, 0.5, 4.0, 50.0])
@pytest.mark.parametrize("io", [False, True], ids=["no_io", "io"])
def test_theta_from_1e_12_to_50_gives_verified_equilibria(theta, io):
    w = economy(3, 2, seed=7, io=io, theta=theta)
    assert solve_verified(w, w.tariffs_with(importer="R0", add=0.5)) is not None


@pytest.mark.parametrize("io", [False, True], ids=["no_io", "io"])
def test_welfare_is_continuous_down_to_the_cobb_douglas_limit(io):
    """As theta -> 0 trade shares stop responding and log P -> sum_i pi log(tau_hat c_hat):
    welfare at theta = 1e-12 and 1e-15 must agree with the limit (theta = 1e-300) to
    ~theta, not flip sign as the plain log-sum-exp did (issue 22)."""
    w = economy(3, 2, seed=8, io=io, theta=1.0)
    t = w.tariffs_with(importer="R0", add=0.5)
    wel = {th: solve(w, tariffs=t, theta=np.full(2, th)).welfare_hat for th in (1e-300, 1e-15, 1e-12, 1e-6)}
    np.testing.assert_allclose(wel[1e-15], wel[1e-300], rtol=1e-12)
    np.testing.assert_allclose(wel[1e-12], wel[1e-300], rtol=1e-10)
    np.testing.assert_allclose(wel[1e-6], wel[1e-300], rtol=1e-4)
    eq = solve(w, tariffs=t, theta=np.full(2, 1e-300))
    pi0 = w.trade_share
    z = np.log((1 + t) / (1 + w.tariffs) * eq.cost_hat[:, None, :])
    np.testing.assert_allclose(np.log(eq.price_hat), np.einsum("ins,ins->ns", pi0, z), atol=1e-13)


def test_certificate_travels_with_the_result():
    w = economy(3, 2, seed=1)
    eq = solve(w, tariffs=w.tariffs_with(importer="R2", add=0.1))
    cert = eq.meta["certificate"]
    assert {"labour", "numeraire", "income", "price", "spending"} <= set(cert)
    assert max(cert.values()) <= eq.residual < 1e-9


def test_scenario_refuses_a_theta_scale_that_zeroes_every_elasticity():
    from tariffsim.errors import ScenarioError
    from tariffsim.scenario import parse_scenario

    with pytest.raises(ScenarioError, match=r"model\.ge\.theta_scale: must be at least 0\.01"):
        parse_scenario("model: {ge: {theta_scale: 1.0e-300}}")
    assert parse_scenario("model: {ge: {theta_scale: 0.01}}").model.ge.theta_scale == 0.01


def test_certificate_checks_the_market_the_solver_leaves_to_walras_law():
    """Perturb a solved economy so only the tiny country's labour market (and what follows
    from it) is off: the certificate names that market, whichever row the solver dropped."""
    import jax
    from tariffsim.models import ge

    w = economy(3, 2, seed=5, theta=50.0, tiny=1e-9, tiny_at=2)
    t = w.tariffs_with(importer="R1", add=0.25)
    p = ge.make_params(w, t)
    sol = jax.tree_util.tree_map(np.asarray, ge._equilibrium_jit(p, np.zeros(3), has_io=False, method="newton"))
    assert ge.certify(p, sol, w.regions, w.sectors).max < 1e-9
    bad = sol._replace(flows=sol.flows * np.where(np.arange(3) == 2, 1.27, 1.0)[:, None, None])
    cert = ge.certify(p, bad, w.regions, w.sectors)
    assert cert.violations["labour"] == pytest.approx(0.27, rel=1e-6) and cert.where["labour"] == "'R2'"
