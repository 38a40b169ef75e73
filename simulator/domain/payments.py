"""The payment lifecycle as a transition table, and the reasons a payment can be rejected."""

from __future__ import annotations

__all__ = [
    "CANCELLED",
    "CHARGE_ANNULLED",
    "CREATED",
    "EVENTS",
    "FRAUD_SUSPECTED",
    "INSUFFICIENT_FUNDS",
    "LIMIT_EXCEEDED",
    "PAYEE_UNAVAILABLE",
    "PROCESSING",
    "REJECTED",
    "REJECTION_REASONS",
    "STATES",
    "SUCCEEDED",
    "TERMINAL",
    "TRANSITIONS",
    "IllegalTransition",
    "next_state",
]

CREATED, PROCESSING, SUCCEEDED, REJECTED, CANCELLED = "created", "processing", "succeeded", "rejected", "cancelled"
STATES = (CREATED, PROCESSING, SUCCEEDED, REJECTED, CANCELLED)

PROCESS, SUCCEED, REJECT, CANCEL = "process", "succeed", "reject", "cancel"
EVENTS = (PROCESS, SUCCEED, REJECT, CANCEL)

TRANSITIONS: dict[tuple[str, str], str] = {
    (CREATED, PROCESS): PROCESSING,
    (PROCESSING, SUCCEED): SUCCEEDED,
    (PROCESSING, REJECT): REJECTED,
    # A charge found annulled (or a forced decline) is refused before any money moves, so it never processes.
    (CREATED, REJECT): REJECTED,
    (CREATED, CANCEL): CANCELLED,
    (PROCESSING, CANCEL): CANCELLED,
}

# Nothing leaves these states: a settled payment is reversed by a refund, never by a cancel.
TERMINAL = frozenset({SUCCEEDED, REJECTED, CANCELLED})

INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
CHARGE_ANNULLED = "CHARGE_ANNULLED"
PAYEE_UNAVAILABLE = "PAYEE_UNAVAILABLE"
LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
FRAUD_SUSPECTED = "FRAUD_SUSPECTED"
REJECTION_REASONS = (INSUFFICIENT_FUNDS, CHARGE_ANNULLED, PAYEE_UNAVAILABLE, LIMIT_EXCEEDED, FRAUD_SUSPECTED)


class IllegalTransition(Exception):
    """An event that the payment's current state does not allow (e.g. cancelling a succeeded payment)."""

    def __init__(self, state: str, event: str) -> None:
        super().__init__(f"cannot {event} a payment that is {state}")
        self.state = state
        self.event = event


def next_state(state: str, event: str) -> str:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None
