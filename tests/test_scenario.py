"""Scenario files: parsing, validation messages (file, line, field), references, schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tariffsim.errors import ScenarioError
from tariffsim.scenario import (
    Scenario, builtin_scenario_path, list_builtin_scenarios, load_scenario, parse_rate, parse_scenario, scenario_schema,
)

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.yaml"))


def _err(text: str, tmp_path: Path, name: str = "s.yaml") -> str:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ScenarioError) as ei:
        load_scenario(p)
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg.startswith(str(p.resolve()))
    return msg


def test_builtin_bundle_parses_with_the_2025_timeline():
    assert "us_japan_2025_2026" in list_builtin_scenarios()
    s = load_scenario(None)
    assert s.name == "us_japan_2025_2026"
    names = [c.name for c in s.counterfactuals]
    for n in ("liberation_day", "august", "japan_deal", "war_reciprocal", "negotiated"):
        assert n in names
    lib = s.counterfactual("liberation_day")
    assert lib.schedule == "liberation-day-2025-04-02" and lib.date == dt.date(2025, 4, 9)
    war = s.counterfactual("war_reciprocal")
    assert war.base == "liberation_day" and war.measures[0].add == pytest.approx(0.24)
    neg = s.counterfactual("negotiated")
    from tariffsim.strategy.investment import investment_transfer

    pledge = investment_transfer(550.0).transfer_equivalent_usd_bn      # the MOU cash-flow reading (issue 15)
    assert 0 < pledge < 550 / 20 * 1.5
    assert sum(t.annual_usd_bn for t in neg.transfers) == pytest.approx(pledge + 2.0)
    assert s.strategy.bargain[0].deal == "negotiated"
    assert s.path == builtin_scenario_path().resolve()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_parse(path):
    assert isinstance(load_scenario(path), Scenario)


def test_rates_accept_fractions_and_percent_strings():
    assert parse_rate("24%") == pytest.approx(0.24)
    assert parse_rate(" 7.5 % ") == pytest.approx(0.075)
    assert parse_rate(0.15) == 0.15
    for bad in ("-150%", -1.0, "abc", True, "1e9"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    msg = _err("name: x\nworld:\n  dataset: [a\n", tmp_path)
    assert "YAML syntax error" in msg and ":4:" in msg


def test_unknown_field_names_field_and_line(tmp_path):
    msg = _err("name: x\ncounterfactuals:\n  - name: a\n    foo: 1\n", tmp_path)
    assert msg.endswith(":4: counterfactuals[0].foo: unknown field")


def test_tariff_below_minus_100_percent_is_refused(tmp_path):
    msg = _err("name: x\ncounterfactuals:\n  - name: a\n    measures:\n      - importer: USA\n        set: -150%\n", tmp_path)
    assert ":6: counterfactuals[0].measures[0].set:" in msg and "-150%" in msg


def test_missing_world_file_names_the_field(tmp_path):
    msg = _err("name: x\nworld:\n  files: nowhere/flows.csv\n", tmp_path)
    assert ":3: world.files: file not found" in msg


def test_bad_references_and_duplicates(tmp_path):
    msg = _err("counterfactuals:\n  - name: a\n  - name: a\n", tmp_path)
    assert ":3: counterfactuals[1].name: duplicate" in msg
    msg = _err("counterfactuals:\n  - name: a\n    base: b\n", tmp_path)
    assert "counterfactuals[0].base: unknown counterfactual 'b'" in msg
    msg = _err("counterfactuals:\n  - name: a\nstrategy:\n  optimal:\n    - {name: o, country: JPN, against: zz}\n", tmp_path)
    assert ":5: strategy.optimal[0].against" in msg
    msg = _err("counterfactuals:\n  - name: a\n    measures:\n      - {importer: USA, add: 0.1, set: 0.2}\n", tmp_path)
    assert "exactly one of add or set" in msg
    msg = _err("model:\n  ge:\n    closure: sideways\n", tmp_path)
    assert ":3: model.ge.closure:" in msg


def test_unknown_country_and_sector_name_field_and_line(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("sector_groups:\n  autos: ['20']\ncounterfactuals:\n  - name: a\n    measures:\n"
                 "      - {importer: USA, exporter: JPN, sectors: autos, add: 0.1}\n"
                 "      - {importer: USA, exporter: XXX, add: 0.1}\n")
    s = load_scenario(p)
    regions, sectors = ("JPN", "USA"), tuple(str(k) for k in range(1, 45))
    with pytest.raises(ScenarioError, match=r":7: counterfactuals\[0\]\.measures\[1\]\.exporter: unknown country 'XXX'"):
        s.check_world(regions, sectors)
    assert s.expand_sectors(["autos", "1-3"], sectors, ("x",)) == ["20", "1", "2", "3"]
    with pytest.raises(ScenarioError, match="unknown sector '99'"):
        s.expand_sectors(["99"], sectors, ("x",))


def test_paths_resolve_relative_to_the_scenario_file(tmp_path):
    d = tmp_path / "sub"
    (d / "data").mkdir(parents=True)
    (d / "data" / "flows.csv").write_text("exporter,importer,sector,value_usd_mn\n")
    p = d / "s.yaml"
    p.write_text("world:\n  files: data\n")
    s = load_scenario(p)
    assert s.resolve(s.world.files) == (d / "data").resolve()
    assert (d / "data").resolve() in s.input_paths()


def test_not_a_mapping_and_empty_file(tmp_path):
    assert "a scenario is a mapping" in _err("- 1\n- 2\n", tmp_path)
    p = tmp_path / "empty.yaml"
    p.write_text("")
    with pytest.raises(ScenarioError, match=r"empty\.yaml: scenario file is empty .*--defaults"):
        load_scenario(p)
    assert load_scenario(p, defaults=True).name == "scenario"      # issue 18: only with --defaults


def test_schema_is_json_and_documents_fields():
    sch = scenario_schema()
    text = json.dumps(sch)
    assert sch["title"] == "Scenario"
    for field in ("counterfactuals", "monte_carlo", "strategy", "world", "outputs"):
        assert field in sch["properties"]
    assert "Counterfactual" in text and "additionalProperties" in text


def test_round_trip_yaml():
    s = load_scenario(None)
    again = parse_scenario(s.to_yaml())
    assert again.model_dump() == s.model_dump()


def test_as_of_resolves_dates_and_cuts_the_timeline():
    import datetime as dt

    s = load_scenario(None).with_as_of("2026-03-01")
    r = s.resolved()
    dates = [e.date for e in r.policy.timeline]
    assert max(dates) == dt.date(2026, 3, 1) and dt.date(2026, 2, 24) in dates and dt.date(2026, 7, 24) not in dates
    assert r.counterfactual("today").date == dt.date(2026, 3, 1)
    assert r.model.pe.date == dt.date(2026, 3, 1) and r.fairness.date == dt.date(2026, 3, 1)
    assert r.strategy.deal_ledger.dates == [dt.date(2025, 9, 16), dt.date(2026, 3, 1)]
    assert load_scenario("us_japan_2025").name == "us_japan_2025_2026"       # the former name still loads


def test_default_as_of_is_today_clipped_to_the_schedule():
    import datetime as dt

    day = load_scenario(None).as_of_date()
    assert dt.date(2025, 1, 1) <= day <= dt.date(2026, 12, 31)
    assert day == min(max(dt.date.today(), dt.date(2025, 1, 1)), dt.date(2026, 12, 31))


@pytest.mark.parametrize("bad", ["2024-12-31", "2027-01-01", "yesterday", "2026-13-01"])
def test_as_of_outside_the_schedule_is_one_line_error(bad):
    with pytest.raises(ScenarioError) as e:
        load_scenario(None).with_as_of(bad)
    assert "\n" not in str(e.value) and "--as-of" in str(e.value)
