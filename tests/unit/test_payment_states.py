"""The payment lifecycle table: the moves the contract allows, and a named error for every other one."""

from __future__ import annotations

import itertools

import pytest

from simulator.domain.payments import (
    EVENTS,
    REJECTION_REASONS,
    STATES,
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    next_state,
)


@pytest.mark.parametrize(
    ("state", "event", "after"),
    [
        ("created", "process", "processing"),
        ("processing", "succeed", "succeeded"),
        ("processing", "reject", "rejected"),
        ("created", "reject", "rejected"),
        ("created", "cancel", "cancelled"),
        ("processing", "cancel", "cancelled"),
    ],
)
def test_a_payment_moves_along_the_contract(state, event, after):
    assert next_state(state, event) == after


def test_a_succeeded_payment_cannot_be_cancelled():
    with pytest.raises(IllegalTransition) as caught:
        next_state("succeeded", "cancel")
    assert (caught.value.state, caught.value.event) == ("succeeded", "cancel")
    assert "cancel" in str(caught.value) and "succeeded" in str(caught.value)


def test_a_created_payment_cannot_succeed_without_processing():
    with pytest.raises(IllegalTransition):
        next_state("created", "succeed")


def test_nothing_leaves_a_terminal_state():
    for state, event in itertools.product(TERMINAL, EVENTS):
        with pytest.raises(IllegalTransition):
            next_state(state, event)


def test_every_state_is_reachable_and_only_terminal_states_are_dead_ends():
    reachable = {"created"} | set(TRANSITIONS.values())
    assert reachable == set(STATES)
    sources = {state for state, _ in TRANSITIONS}
    assert set(STATES) - sources == TERMINAL


def test_unknown_states_and_events_are_illegal_transitions():
    with pytest.raises(IllegalTransition):
        next_state("pending", "process")
    with pytest.raises(IllegalTransition):
        next_state("created", "refund")


def test_rejection_reasons_are_stable_upper_case_codes():
    assert set(REJECTION_REASONS) == {
        "INSUFFICIENT_FUNDS", "CHARGE_ANNULLED", "PAYEE_UNAVAILABLE", "LIMIT_EXCEEDED", "FRAUD_SUSPECTED",
    }  # fmt: skip
