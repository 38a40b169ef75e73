"""Scenario files: the schema and the model's checks refuse broken rules with the line and field named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from simulator.scenarios.loader import SCHEMA_PATH, ScenarioFileError, known_operations, load_file, load_text
from simulator.scenarios.model import Break, Delay, Respond, Throttle, parse_seconds
from simulator.settings import resource_path

OPS = known_operations(resource_path("openapi"))


def problems_of(text: str) -> list[str]:
    with pytest.raises(ScenarioFileError) as caught:
        load_text(text, "s.yaml", OPS)
    return caught.value.problems


def test_the_schema_file_is_a_valid_json_schema():
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_a_good_file_gives_scenarios_with_every_kind_of_action():
    scenarios = load_text("""
version: 1
scenarios:
  - name: mixed
    rules:
      - {match: {operation: ListFines}, status: 503, retry_after: 120}
      - {latency: 250ms}
      - {latency: {median: 300ms, p99: 3s}}
      - {break: {mode: empty, after_handler: true}}
      - {match: {path: "/api/*", client: demo-bank}, throttle: {rate: 5, per: 1s, burst: 10}}
""", "s.yaml", OPS)
    actions = [r.action for r in scenarios[0].rules]
    assert actions[0] == Respond(status=503, retry_after=120)
    assert actions[1] == Delay("fixed", 0.25)
    assert actions[2] == Delay("lognormal", 0.3, 3.0)
    assert actions[3] == Break("empty", after_handler=True)
    assert actions[4] == Throttle(rate=5, per=1.0, burst=10)
    assert [r.name for r in scenarios[0].rules] == ["rule-1", "rule-2", "rule-3", "rule-4", "rule-5"]


def test_an_unknown_field_is_refused_naming_its_line_and_path():
    found = problems_of("scenarios:\n  - name: a\n    rules:\n      - status: 503\n        colour: red\n")
    assert len(found) == 1
    assert found[0].startswith("s.yaml:5: scenarios[0].rules[0].colour: unknown field 'colour'")


def test_a_status_that_is_not_an_error_is_refused():
    found = problems_of("scenarios:\n  - name: a\n    rules:\n      - status: 299\n")
    assert found == ["s.yaml:4: scenarios[0].rules[0].status: bad status 299: a fault answers 400-599"]


@pytest.mark.parametrize("duration", ["2 parsecs", "-1s", "P1M", "11m", "true"])
def test_a_bad_duration_is_refused_with_its_line(duration):
    found = problems_of(f"scenarios:\n  - name: a\n    rules:\n      - latency: {duration}\n")
    assert len(found) == 1
    assert found[0].startswith("s.yaml:4: scenarios[0].rules[0].latency:")


def test_a_misspelt_operation_id_gets_a_suggestion():
    found = problems_of("scenarios:\n  - name: a\n    rules:\n      - {match: {operation: ListFine}, status: 503}\n")
    assert "unknown operationId 'ListFine'; did you mean 'ListFines'?" in found[0]


def test_a_rule_with_two_actions_or_none_is_refused():
    found = problems_of("scenarios:\n  - name: a\n    rules:\n      - {status: 503, latency: 1s}\n      - {match: {}}\n")
    assert any("rules[0]" in p and "exactly one action" in p for p in found)
    assert any("rules[1]" in p and "exactly one action" in p for p in found)


def test_a_duplicate_key_is_not_silently_dropped():
    found = problems_of("scenarios:\n  - name: a\n    rules:\n      - status: 503\n        status: 504\n")
    assert found == ["s.yaml:5: scenarios[0].rules[0].status: duplicate key 'status'"]


def test_every_problem_of_a_file_is_reported_in_one_run():
    found = problems_of("""scenarios:
  - name: a
    rules:
      - {status: 700}
  - name: b
    rules:
      - {latency: {median: 2s, p99: 1s}}
      - {when: {window: {from: "2026-03-02T01:00:00"}}, status: 503}
""")
    assert [p.split(":")[1] for p in found] == ["4", "7", "8"]


def test_yaml_syntax_errors_name_the_line():
    found = problems_of("scenarios:\n  - name: a\n    rules: [\n")
    assert found[0].startswith("s.yaml:4: YAML syntax error")


def test_an_unreadable_file_is_a_scenario_file_error(tmp_path):
    with pytest.raises(ScenarioFileError, match="cannot read"):
        load_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize("text, seconds", [(1, 1.0), (0.5, 0.5), ("250ms", 0.25), ("2s", 2.0), ("1.5m", 90.0),
                                           ("PT2S", 2.0), ("1h", 3600.0)])
def test_durations_read_as_seconds(text, seconds):
    assert parse_seconds(text) == seconds


def test_every_shipped_preset_is_valid_and_named_after_its_file():
    for path in sorted((resource_path("fixtures") / "scenarios").glob("*.yaml")):
        scenarios, _ = load_file(path, OPS)
        assert [s.name for s in scenarios] == [path.stem]


def test_the_presets_the_readme_promises_ship():
    names = {p.stem for p in (resource_path("fixtures") / "scenarios").glob("*.yaml")}
    assert {"portal-outage", "maintenance-window", "slow-fines", "flaky-payments", "expiring-tokens-storm",
            "rate-limited-client", "webhook-receiver-flapping"} <= names


def test_gosim_scenarios_check_prints_problems_and_fails(tmp_path, capsys):
    from simulator.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios:\n  - name: a\n    rules:\n      - {status: 200}\n")
    assert main(["scenarios", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4: scenarios[0].rules[0].status: bad status 200" in err
    good = Path(resource_path("fixtures")) / "scenarios" / "flaky-payments.yaml"
    assert main(["scenarios", "check", str(good)]) == 0
    assert "ok (1 scenario(s), 3 rule(s): flaky-payments)" in capsys.readouterr().out
