"""When a payment settles (immediate / after N checks / after simulated time) and what forced outcomes do."""

from __future__ import annotations

import pytest

from simulator.domain.payments import (
    CHARGE_ANNULLED,
    INSUFFICIENT_FUNDS,
    PROCESS,
    REJECT,
    SUCCEED,
    Settlement,
    due_events,
)
from simulator.services.payments import MAGIC_ACCOUNTS, REASON_TEXT, fingerprint, plan_for
from simulator.services.webhooks import parse_schedule


@pytest.mark.parametrize(
    ("text", "mode", "checks", "seconds"),
    [
        ("immediate", "immediate", 1, 0.0),
        ("after_checks:3", "after_checks", 3, 0.0),
        ("after_checks: 2", "after_checks", 2, 0.0),
        ("after_checks", "after_checks", 1, 0.0),
        ("after:PT30S", "after", 1, 30.0),
        ("after: P1DT1H", "after", 1, 90000.0),
    ],
)
def test_settlement_settings_parse(text, mode, checks, seconds):
    rule = Settlement.parse(text)
    assert (rule.mode, rule.checks, rule.seconds) == (mode, checks, seconds)
    assert Settlement.parse(str(rule)) == rule
    assert Settlement.from_dict(rule.as_dict()) == rule


@pytest.mark.parametrize("text", ["", "soon", "after_checks:0", "after_checks:x", "after", "after:P1M", "immediate:1",
                                  "after:-PT1S", "after_checks:1001"])
def test_a_bad_settlement_setting_is_refused_with_a_reason(text):
    with pytest.raises(ValueError):
        Settlement.parse(text)


def _events(state, rule, checks=0, elapsed=0.0, outcome="succeed", reason=None):
    return due_events(state, outcome=outcome, reason=reason, settlement=Settlement.parse(rule), checks=checks,
                      elapsed=elapsed)


def test_immediate_settlement_processes_and_succeeds_at_once():
    assert _events("created", "immediate") == [PROCESS, SUCCEED]


def test_after_checks_waits_for_the_nth_check_and_processes_on_the_first():
    assert _events("created", "after_checks:3", checks=0) == []
    assert _events("created", "after_checks:3", checks=1) == [PROCESS]
    assert _events("processing", "after_checks:3", checks=2) == []
    assert _events("processing", "after_checks:3", checks=3) == [SUCCEED]


def test_after_a_duration_settles_only_once_the_time_has_passed():
    assert _events("created", "after:PT60S", elapsed=59.9) == [PROCESS]
    assert _events("processing", "after:PT60S", elapsed=59.9) == []
    assert _events("processing", "after:PT60S", elapsed=60) == [SUCCEED]
    assert _events("created", "after:PT60S", elapsed=3600) == [PROCESS, SUCCEED]


def test_a_forced_decline_is_rejected_at_settlement_with_its_reason():
    assert _events("created", "immediate", outcome="reject", reason=INSUFFICIENT_FUNDS) == [PROCESS, REJECT]


def test_an_annulled_charge_is_refused_before_processing():
    assert _events("created", "after_checks:5", checks=1, outcome="reject", reason=CHARGE_ANNULLED) == [REJECT]


def test_a_held_payment_stays_processing_forever():
    assert _events("created", "immediate", outcome="hold") == [PROCESS]
    assert _events("processing", "after:PT0S", elapsed=10**9, outcome="hold") == []


def test_terminal_payments_never_move():
    for state in ("succeeded", "rejected", "cancelled"):
        assert _events(state, "immediate") == []


def test_magic_accounts_force_their_outcome_and_every_reason_has_a_text():
    assert plan_for({"account": "40817810000000000002"}, {}).reason == INSUFFICIENT_FUNDS
    assert plan_for({"account": "40817810000000000009"}, {}).outcome == "hold"
    assert plan_for({"account": "40817810099910004312"}, {}).outcome == "succeed"
    assert plan_for({}, {}).outcome == "succeed"
    assert plan_for({}, {"change_status": "annulled"}).reason == CHARGE_ANNULLED
    for plan in MAGIC_ACCOUNTS.values():
        assert plan.reason is None or plan.reason in REASON_TEXT


def test_the_request_fingerprint_ignores_key_order_but_not_values():
    a = {"uin": "1", "amount": 5, "payer": {"name": "А", "inn": "1"}}
    b = {"payer": {"inn": "1", "name": "А"}, "amount": 5, "uin": "1"}
    assert fingerprint(a, None) == fingerprint(b, None)
    assert fingerprint(a, None) != fingerprint({**a, "amount": 6}, None)
    assert fingerprint(a, None) != fingerprint(a, "immediate")


def test_the_retry_schedule_is_seconds_separated_by_commas():
    assert parse_schedule("1, 2,4.5") == (1.0, 2.0, 4.5)
    assert parse_schedule("") == ()
    with pytest.raises(ValueError):
        parse_schedule("1,two")
    with pytest.raises(ValueError):
        parse_schedule("-1")


@pytest.mark.parametrize("change", [{"payment_settlement": "soon"}, {"webhook_retry_schedule": "1,x"},
                                    {"webhook_poll_ms": 0}])
def test_bad_payment_settings_stop_the_server_before_it_starts(change):
    from simulator.app import ConfigurationError, check_settings
    from simulator.settings import Settings

    with pytest.raises(ConfigurationError):
        check_settings(Settings.from_env({}, **change))
