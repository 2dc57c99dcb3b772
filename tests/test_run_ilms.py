"""The scenario runner honours ``model.family``: an ILMS (2025) scenario is solved with the ILMS model.

Checks: ``examples/ilms2025/ustr.yaml`` through :func:`tariffsim.run_scenario` gives the US
welfare change of the model's own one-call result (``ilms_paper.scenario("ustr")``) and the
published +1.13% (Ignatenko et al. 2025, JIE, Table 1 case 1) within 0.02 pp; the sections that
need the Caliendo-Parro world are skipped with a reason naming the family; a Caliendo-Parro
scenario's numbers are those of ``ts.solve`` on the same tariffs; a family the runner cannot
tabulate is a one-line scenario error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

import tariffsim as ts

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PUBLISHED_US_WELFARE_PCT = 1.13      # ILMS (2025), Table 1, USTR tariffs, income-tax relief, no retaliation


@pytest.fixture(scope="module")
def ilms_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ilms_out")
    return ts.run_scenario(EXAMPLES / "ilms2025" / "ustr.yaml", out, sections=["counterfactuals", "welfare", "products"])


def _us(df: pl.DataFrame, name: str) -> dict:
    return df.filter((pl.col("counterfactual") == name) & (pl.col("region") == "USA")).row(0, named=True)


def test_ilms_scenario_us_welfare_equals_model_one_call_and_published(ilms_run):
    from tariffsim.models import ilms_paper

    row = _us(ilms_run.section("counterfactuals").tables["ge_counterfactuals"], "ustr")
    paper = ilms_paper.scenario("ustr")
    eq = paper.equilibrium
    us = eq.regions.index("USA")
    assert row["welfare_change_pct"] == pytest.approx(100 * (eq.welfare_hat[us] - 1), abs=1e-9)
    assert abs(row["welfare_change_pct"] - PUBLISHED_US_WELFARE_PCT) < 0.02
    # the same equilibrium, not only the same welfare: revenue and trade as the model reports them
    assert row["tariff_revenue_usd_bn"] == pytest.approx(eq.tariff_revenue[us] / 1000, rel=1e-9)
    assert row["imports_change_pct"] == pytest.approx(eq.imports_change_pct[us], rel=1e-9)
    # money-metric welfare is the welfare change times baseline absorption (the US spends > USD 25tn)
    assert row["ev_usd_bn"] == pytest.approx(row["welfare_change_pct"] / 100 * eq.base_expenditure[us] / 1000, rel=1e-9)
    assert 250 < row["ev_usd_bn"] < 400


def test_ilms_scenario_skips_caliendo_parro_sections_and_bands(ilms_run):
    products = ilms_run.section("products")
    assert products.status == "skipped" and "ilms2025" in products.note
    assert ilms_run.section("counterfactuals").status == "ok"
    assert "ilms2025" in ilms_run.section("summary").note
    assert (ilms_run.out / "report.html").exists()


def test_caliendo_parro_scenario_numbers_equal_ts_solve():
    run = ts.run_scenario(EXAMPLES / "user_world.yaml", sections=["counterfactuals"])
    scn = ts.load_scenario(EXAMPLES / "user_world.yaml")
    world = ts.load_world(str(EXAMPLES / "two_country_world"), rebase=scn.world.rebase)
    t = world.tariffs_with(importer="HOM", exporter="FOR", set=0.20)
    eq = ts.solve(world, tariffs=t, closure="fixed")
    df = run.section("counterfactuals").tables["ge_counterfactuals"]
    got = {r["region"]: r["welfare_change_pct"] for r in df.filter(pl.col("counterfactual") == "home_tariff").to_dicts()}
    np.testing.assert_allclose([got[r] for r in world.regions], 100 * (np.asarray(eq.welfare_hat) - 1), atol=1e-9)


def test_family_the_runner_cannot_tabulate_is_a_one_line_error(tmp_path):
    text = (EXAMPLES / "user_world.yaml").read_text().replace("model:\n", "model:\n  family: ossa2014\n", 1)
    path = tmp_path / "ossa.yaml"
    path.write_text(text)
    (tmp_path / "two_country_world").symlink_to(EXAMPLES / "two_country_world")
    with pytest.raises(ts.ScenarioError, match="model.family") as info:
        ts.run_scenario(path, sections=["counterfactuals"])
    assert "\n" not in str(info.value)
