"""Global safeguards of optimal tariffs (issue 16) and the ``exporters=`` option (issue 19).

- Invariant: a richer tariff structure contains the coarser ones (bilateral contains
  by_sector and by_partner, each contains uniform), so its optimum is never worse.
  The multi-start of ``optimal_tariff`` (from the current rates and from every contained
  structure's optimum) makes this hold; ``result.start`` names the winning start.
- ``exporters=``: the uniform optimum on one partner equals a brute-force 1-D scan of
  the plain solver (``ts.solve``), not of the optimiser's own objective.
- Compile once: a second world of the same shapes reuses the compiled objective.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import small_ossa_world

import tariffsim as ts
from tariffsim.models.synthetic import synthetic_world
from tariffsim.errors import CornerSolutionWarning, ScenarioError
from tariffsim.models.base import bind_model
from tariffsim.strategy import _core, optimal_tariff


@pytest.fixture(scope="module")
def small_pol():
    """3 regions x 3 sectors, balanced by Ossa's re-basing, political-economy weights (as test_strategy_core)."""
    return bind_model(small_ossa_world(), "ossa2014", weights="political_economy")


@pytest.mark.parametrize("country", ["A", "B"])
def test_richer_structure_never_below_a_contained_one(small_pol, country):
    k = small_pol.world.index(country)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        r = {s: optimal_tariff(small_pol, country, structure=s) for s in ("uniform", "by_sector", "by_partner", "bilateral")}
    g = {s: float(v.government_welfare_hat[k]) for s, v in r.items()}
    tol = 1e-12
    assert g["by_sector"] >= g["uniform"] - tol and g["by_partner"] >= g["uniform"] - tol
    assert g["bilateral"] >= max(g["by_sector"], g["by_partner"]) - tol
    b = r["bilateral"]
    # the current rates and the best contained optimum were tried; the reported start reached the reported welfare
    best_coarse = max(("by_sector", "by_partner"), key=g.get)
    assert set(b.start_welfare) == {"current", best_coarse}
    assert b.start_welfare[b.start] == pytest.approx(g["bilateral"], abs=1e-12)
    assert g["bilateral"] >= max(b.start_welfare.values()) - 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        every = optimal_tariff(small_pol, country, structure="bilateral", starts="all")
    assert set(every.start_welfare) == {"current", "uniform", "by_sector", "by_partner"}
    assert every.government_welfare_hat[k] >= g["bilateral"] - 1e-12


def test_single_start_is_the_current_local_optimum(small_pol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        one = optimal_tariff(small_pol, "C", structure="by_sector", starts="current")
        multi = optimal_tariff(small_pol, "C", structure="by_sector")
    assert one.start == "current" and set(one.start_welfare) == {"current"}
    assert multi.start_welfare["current"] == pytest.approx(one.government_welfare_hat[2], abs=1e-12)
    assert multi.government_welfare_hat[2] >= one.government_welfare_hat[2] - 1e-12


@pytest.fixture(scope="module")
def cp_world():
    return synthetic_world(3, 2, seed=11, balanced=True)


def test_exporters_uniform_rate_matches_brute_force_scan(cp_world):
    """Country C00's best uniform tariff on C01 only (C02's rates fixed) = argmax of a 1-D scan of ts.solve."""
    w = cp_world
    r = optimal_tariff(w, "C00", exporters=["C01"], closure="balanced")
    assert r.exporters == ("C01",) and r.parameters.shape == (1,)
    # only C00's tariffs on C01 moved
    moved = np.abs(r.tariff_rate - np.asarray(w.tariffs)) > 0
    assert moved[1, 0, :].all() and moved.sum() == w.n_sectors

    def welfare(rate: float) -> float:
        t = w.tariffs_with(importer="C00", exporter="C01", set=rate)
        return float(ts.solve(w, tariffs=t, closure="balanced").welfare_hat[0])

    grid = np.linspace(0.0, 2.0, 201)
    best = grid[int(np.argmax([welfare(x) for x in grid]))]
    fine = np.linspace(max(0.0, best - 0.01), best + 0.01, 201)
    vals = [welfare(x) for x in fine]
    k = int(np.argmax(vals))
    assert r.parameters[0] == pytest.approx(fine[k], abs=2e-4)
    assert r.welfare_hat[0] >= vals[k] - 1e-12
    assert 0.0 < r.parameters[0] < 2.0 and not r.corner


def test_exporters_bad_input_is_one_line_error(cp_world):
    with pytest.raises(ScenarioError, match="itself"):
        optimal_tariff(cp_world, "C00", exporters=["C00"])
    with pytest.raises(ScenarioError, match="distinct"):
        optimal_tariff(cp_world, "C00", exporters=[])
    with pytest.raises(ts.DataError, match="unknown region"):
        optimal_tariff(cp_world, "C00", exporters=["XXX"])


def test_second_world_of_the_same_shape_compiles_nothing(cp_world):
    optimal_tariff(cp_world, "C01")
    compiled = _core._SHARED["player"]._cache_size()
    other = synthetic_world(3, 2, seed=12, balanced=True)
    r = optimal_tariff(other, "C01")
    assert _core._SHARED["player"]._cache_size() == compiled
    assert r.start == "current" and np.isfinite(r.welfare_hat).all()
