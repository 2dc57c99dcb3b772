"""ts.solve(..., model=...): Caliendo-Parro unchanged, other families through their bound model (issue 17)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tariffsim as ts
from tariffsim.errors import ScenarioError
from tariffsim.models import dispatch, ge
from tariffsim.models.ilms_data import ustr_tariffs


@pytest.fixture(scope="module")
def cp_world():
    return ts.load_world("world_io_7x44_2017")


@pytest.fixture(scope="module")
def ilms_world():
    return ts.load_world("world_2023_aggregate")


def test_api_solve_is_the_dispatcher():
    assert ts.solve is dispatch.solve


def test_signature_keeps_every_cp_keyword_and_default():
    new = inspect.signature(dispatch.solve).parameters
    for name, p in inspect.signature(ge.solve).parameters.items():
        assert name in new, name
        assert new[name].default == p.default, name
        assert new[name].kind == p.kind, name
    assert new["model"].default == "caliendo_parro"


def test_caliendo_parro_equals_the_old_call_exactly(cp_world):
    t = cp_world.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    old = ge.solve(cp_world, tariffs=t)
    for new in (ts.solve(cp_world, tariffs=t), ts.solve(cp_world, tariffs=t, model="caliendo_parro")):
        assert np.array_equal(new.welfare_hat, old.welfare_hat)
        assert np.array_equal(new.wage_hat, old.wage_hat)
        assert np.array_equal(new.flows, old.flows)
    bal = ts.solve(cp_world, tariffs=t, closure="balanced", model="caliendo_parro")
    assert np.array_equal(bal.welfare_hat, ge.solve(cp_world, tariffs=t, closure="balanced").welfare_hat)


def test_ilms_equals_the_bound_model(ilms_world):
    m = ts.bind_model(ilms_world, "ilms2025", closure="fixed")
    t = ustr_tariffs(m.world)
    ref = m.solve(t)
    eq = ts.solve(ilms_world, tariffs=t, model="ilms2025")
    assert np.array_equal(eq.welfare_hat, ref.welfare_hat)
    assert np.array_equal(eq.flows, ref.flows)
    # options reach the binder: the lump-sum rebate is a different equilibrium, equal to its own binding
    ls = ts.solve(ilms_world, tariffs=t, model="ilms2025", revenue="lump_sum")
    ref_ls = ts.bind_model(ilms_world, "ilms2025", closure="fixed", revenue="lump_sum").solve(t)
    assert np.array_equal(ls.welfare_hat, ref_ls.welfare_hat)
    assert abs(ls.welfare_hat[m.world.index("USA")] - ref.welfare_hat[m.world.index("USA")]) > 1e-3


@pytest.mark.parametrize("kw, needle", [
    ({"model": "nope"}, "known: caliendo_parro"),
    ({"model": "ilms2025", "revenu": "lump_sum"}, "its options: closure"),
    ({"model": "ilms2025", "max_iter": 3}, "caliendo_parro solver only"),
    ({"model": "ilms2025", "initial_wage_hat": np.ones(3)}, "caliendo_parro solver only"),
    ({"revenue": "lump_sum"}, "model 'caliendo_parro' takes no option 'revenue'"),
])
def test_bad_model_or_option_is_one_line(ilms_world, kw, needle):
    with pytest.raises(ScenarioError) as exc:
        ts.solve(ilms_world, **kw)
    msg = str(exc.value)
    assert needle in msg and "\n" not in msg
