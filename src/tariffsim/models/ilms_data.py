"""Data construction of Ignatenko, Macedoni, Lashkaripour and Simonovska (2025), as in their code.

The replication package (``code/analysis/main_baseline.m``, lines 1-39) builds the
194-country baseline from BACI 2023 bilateral goods flows ``X[j, i]`` (exporter j,
importer i, FOB, no self-flows) and WDI GDP ``Y_i``:

1. Non-wage income shares ``nu`` (``solveNu``): aggregate the world to two regions
   (the US and the rest) and solve for ``(nu_rest, nu_US)`` so that the share of
   non-wage income in each region's *absorption-weighted* income hits 0.12 (rest)
   and 0.26 (US)::

       E_r   = Y_r + (1 - nu_r) (M_r - sum_s (1 - nu_s) X[r, s])        (aggregated, r, s in {rest, US})
       rho_r = (E_r - X[s, r]) / (E_r - X[s, r] + X[r, s])               (r's own share, s != r)
       rho_rest nu_rest + (1 - rho_rest) nu_US = 0.12
       rho_US nu_US + (1 - rho_US) nu_rest     = 0.26

   ``nu = nu_rest`` for every country but the US. In the model, a share ``nu_i``
   of importer i's spending accrues to i as non-wage income (distribution,
   rents): ``nu`` weights each flow by the *importer's* nu.
2. Deficits and absorption::

       T_i  = (1 - nu_i) (M_i - sum_j (1 - nu_j) X[i, j])    (trade deficit net of the importer-side income)
       E_i  = Y_i + T_i
       X[i, i] = max(E_i - M_i, 0)                            (domestic absorption)

3. From the completed matrix: ``E_i = sum_j X[j, i]``,
   ``Y_i = sum_j (1 - nu_j) X[i, j] + nu_i E_i`` (GDP plus ``nu_i sum_{j!=i} (1-nu_j) X[i, j]``:
   the authors' model income, not WDI GDP) and ``T_i = E_i - Y_i``; ``sum_i T_i = 0``.

The bundled ``world_2023_aggregate`` ships the off-diagonal flows and the GDP table,
so :func:`ilms_world` rebuilds the authors' matrix exactly (their units were USD
thousands; ours are USD millions, which does not matter: the model is in changes).

References
----------
Ignatenko, A., A. Lashkaripour, L. Macedoni and I. Simonovska (2025), "Making America
Great Again? The Economic Impacts of Liberation Day Tariffs", Journal of International
Economics 157, 104138; replication package (July 2025), ``main_baseline.m``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import DataError
from ..world import World

#: Targets of the non-wage income share in the rest of the world and in the US (``solveNu``).
NU_TARGETS = (0.12, 0.26)
#: Initial guess of ``solveNu`` (rest, US).
_NU_START = (0.10, 0.24)


def _two_region(flows_offdiag: np.ndarray, gdp: np.ndarray, home: int) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate to (rest, home): 2x2 flows (exporter x importer) and GDP, as ``AggI * X * AggI'``."""
    n = flows_offdiag.shape[0]
    agg = np.zeros((2, n))
    agg[0] = 1.0
    agg[0, home] = 0.0
    agg[1, home] = 1.0
    return agg @ flows_offdiag @ agg.T, agg @ gdp


def _nu_residual(nu: np.ndarray, X: np.ndarray, Y: np.ndarray, targets) -> np.ndarray:
    """``eqFun`` of ``main_baseline.m``: the two calibration conditions for ``nu = (nu_rest, nu_home)``."""
    E = Y + (1.0 - nu) * (X.sum(axis=0) - ((1.0 - nu)[None, :] * X).sum(axis=1))
    r11 = (E[0] - X[1, 0]) / (E[0] - X[1, 0] + X[0, 1])
    r22 = (E[1] - X[0, 1]) / (E[1] - X[0, 1] + X[1, 0])
    return np.array([(1 - r11) * nu[1] + r11 * nu[0] - targets[0],
                     r22 * nu[1] + (1 - r22) * nu[0] - targets[1]])


def solve_nu(flows_offdiag: np.ndarray, gdp: np.ndarray, home: int,
             targets: Sequence[float] = NU_TARGETS) -> tuple[float, float]:
    """Non-wage income shares ``(nu_rest, nu_home)`` from the two-region targets (``solveNu``).

    Parameters
    ----------
    flows_offdiag : (N, N) exporter x importer flows without self-flows.
    gdp : (N,) GDP in the same units.
    home : index of the home country (the US).
    targets : non-wage shares of the rest and of home (0.12, 0.26).

    Returns
    -------
    (nu_rest, nu_home), each floored at 0 as in the authors' code.
    """
    from scipy.optimize import root

    X, Y = _two_region(np.asarray(flows_offdiag, dtype=float), np.asarray(gdp, dtype=float), home)
    sol = root(_nu_residual, np.array(_NU_START), args=(X, Y, tuple(targets)), method="hybr", tol=1e-14)
    if not sol.success or np.abs(_nu_residual(sol.x, X, Y, targets)).max() > 1e-10:
        raise DataError(f"ilms2025: cannot calibrate nu to targets {tuple(targets)} ({sol.message})")
    nu = np.maximum(sol.x, 0.0)
    return float(nu[0]), float(nu[1])


def nu_vector(n: int, home: int, nu_rest: float, nu_home: float) -> np.ndarray:
    """``nu = nu_rest`` everywhere, ``nu_home`` at ``home``."""
    nu = np.full(n, float(nu_rest))
    nu[home] = float(nu_home)
    return nu


def absorption_matrix(flows_offdiag: np.ndarray, gdp: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """The authors' completed flow matrix: ``X[i, i] = max(Y_i + T_i - M_i, 0)`` (module docstring, step 2)."""
    X = np.array(flows_offdiag, dtype=float)
    np.fill_diagonal(X, 0.0)
    imports = X.sum(axis=0)
    T = (1.0 - nu) * (imports - ((1.0 - nu)[None, :] * X).sum(axis=1))
    E = np.asarray(gdp, dtype=float) + T
    np.fill_diagonal(X, np.maximum(E - imports, 0.0))
    return X


def calc_income(X: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """``Y_i = sum_j (1 - nu_j) X[i, j] + nu_i sum_k X[k, i]`` (income: producer revenue net of the
    importers' non-wage share, plus own non-wage income on absorption)."""
    return ((1.0 - nu)[None, :] * X).sum(axis=1) + nu * X.sum(axis=0)


def ilms_world(world: World | None = None, *, gdp_usd: np.ndarray | None = None, country: str = "USA",
               nu_targets: Sequence[float] = NU_TARGETS) -> World:
    """The authors' 194-country baseline as a one-sector World (``main_baseline.m`` l.1-39).

    Parameters
    ----------
    world : a one-sector world whose off-diagonal flows are the data (default: the bundled
        ``world_2023_aggregate``); its diagonal is replaced.
    gdp_usd : GDP per region in USD (default: the dataset's ``gdp`` table).
    country : home country of the two-region nu calibration.
    nu_targets : (rest, home) non-wage income shares.

    Returns
    -------
    World with flows ``X`` (diagonal = domestic absorption), zero baseline tariffs and
    ``meta["ilms_nu"]`` (N,), ``meta["gdp_usd"]`` (N,).

    Examples
    --------
    >>> from tariffsim.models.ilms_data import ilms_world
    >>> w = ilms_world()
    >>> round(float(w.meta["ilms_nu"][w.index("USA")]), 4)
    0.2705
    """
    if world is None:
        from ..data import load_world

        world = load_world("world_2023_aggregate")
    if world.n_sectors != 1:
        raise DataError(f"ilms2025: the aggregate model has one sector; world {world.name!r} has {world.n_sectors}")
    if gdp_usd is None:
        gdp_usd = dataset_gdp_usd(world)
    gdp = np.asarray(gdp_usd, dtype=float) / 1e6          # USD -> USD mn (the flows' unit)
    if gdp.shape != (world.n_regions,) or not (np.isfinite(gdp).all() and (gdp > 0).all()):
        raise DataError(f"gdp_usd: need {world.n_regions} positive GDP values")
    home = world.index(country)
    off = np.array(world.flows[:, :, 0], dtype=float)
    np.fill_diagonal(off, 0.0)
    nu = nu_vector(world.n_regions, home, *solve_nu(off, gdp, home, nu_targets))
    X = absorption_matrix(off, gdp, nu)
    return World.from_arrays(
        regions=world.regions, sectors=world.sectors, flows=X[:, :, None], theta=world.theta,
        name=f"{world.name}:ilms2025", sector_names=world.sector_names,
        meta={**dict(world.meta), "ilms_nu": nu, "gdp_usd": gdp * 1e6, "ilms_country": country,
              "ilms_nu_targets": tuple(float(v) for v in nu_targets)},
    )


def dataset_gdp_usd(world: World) -> np.ndarray:
    """GDP (USD) of a bundled world's regions from its dataset's ``gdp`` table."""
    from ..data import read_table

    name = world.name.split(":")[0]
    try:
        g = read_table(name, "gdp")
    except Exception as exc:  # noqa: BLE001 - any catalog failure means: no GDP table
        raise DataError(f"ilms2025: world {world.name!r} has no gdp table; pass gdp_usd= ({exc})") from None
    gdp = dict(zip(g["country"].to_list(), g["gdp_usd"].to_list()))
    missing = [r for r in world.regions if r not in gdp]
    if missing:
        raise DataError(f"ilms2025: gdp table of {name!r} lacks {', '.join(missing[:5])}")
    return np.array([gdp[r] for r in world.regions], dtype=float)


def ustr_tariffs(world: World, *, importer: str = "USA", rates: dict[str, float] | None = None) -> np.ndarray:
    """(N, N, 1) tariffs with ``importer``'s April-2025 rates as used by the authors:
    ``max(10%, announced)`` on every partner (``main_baseline.m`` l.45-52; the bundled
    table ``us_tariffs_2025``, column ``rate_used_in_model``)."""
    if rates is None:
        from ..data import read_table

        tab = read_table(world.name.split(":")[0], "us_tariffs_2025")
        rates = dict(zip(tab["partner"].to_list(), tab["rate_used_in_model"].to_list()))
    j = world.index(importer)
    t = np.zeros(world.flows.shape)
    for i, r in enumerate(world.regions):
        if i != j:
            if r not in rates:
                raise DataError(f"us_tariffs_2025: no rate for partner {r}")
            t[i, j, 0] = float(rates[r])
    return t


__all__ = ["NU_TARGETS", "absorption_matrix", "calc_income", "dataset_gdp_usd", "ilms_world", "nu_vector",
           "solve_nu", "ustr_tariffs"]
