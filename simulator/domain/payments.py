"""The payment lifecycle as a transition table, the reasons a payment can be rejected, and when it settles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from .clock import format_duration, parse_duration

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
    "Settlement",
    "due_events",
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


# -- settlement timing ------------------------------------------------------------------------------------------------
IMMEDIATE, AFTER_CHECKS, AFTER = "immediate", "after_checks", "after"
_SETTLEMENT = re.compile(r"^\s*(?P<mode>immediate|after_checks|after)\s*(?::\s*(?P<arg>\S+)\s*)?$")


@dataclass(frozen=True)
class Settlement:
    """How fast a payment settles: at once, on the Nth status check, or once simulated time has passed."""

    mode: str
    checks: int = 1
    seconds: float = 0.0

    @classmethod
    def parse(cls, text: str) -> "Settlement":
        """`immediate`, `after_checks:N` (N >= 1) or `after:<ISO 8601 duration>`; spaces after the colon allowed."""
        match = _SETTLEMENT.match(text or "")
        if match is None:
            raise ValueError(f"settlement {text!r}: expected 'immediate', 'after_checks:N' or 'after:PT30S'")
        mode, arg = match["mode"], match["arg"]
        if mode == IMMEDIATE:
            if arg is not None:
                raise ValueError(f"settlement {text!r}: 'immediate' takes no argument")
            return cls(IMMEDIATE)
        if mode == AFTER_CHECKS:
            if arg is None:
                return cls(AFTER_CHECKS, checks=1)
            if not arg.isdigit() or int(arg) < 1 or int(arg) > 1000:
                raise ValueError(f"settlement {text!r}: N must be a whole number from 1 to 1000")
            return cls(AFTER_CHECKS, checks=int(arg))
        if arg is None:
            raise ValueError(f"settlement {text!r}: 'after' needs a duration, e.g. 'after:PT30S'")
        return cls(AFTER, seconds=parse_duration(arg).total_seconds())

    @property
    def time_based(self) -> bool:
        return self.mode == AFTER

    def started(self, checks: int) -> bool:
        """Whether the portal has begun processing: at once, or only once the bank asked about the payment."""
        return self.mode != AFTER_CHECKS or checks >= 1

    def due(self, checks: int, elapsed: float) -> bool:
        if self.mode == IMMEDIATE:
            return True
        if self.mode == AFTER_CHECKS:
            return checks >= self.checks
        return elapsed >= self.seconds

    def as_dict(self) -> dict:
        return {"mode": self.mode, "checks": self.checks, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, raw: dict) -> "Settlement":
        return cls(str(raw["mode"]), int(raw.get("checks", 1)), float(raw.get("seconds", 0.0)))

    def __str__(self) -> str:
        if self.mode == AFTER_CHECKS:
            return f"after_checks:{self.checks}"
        if self.mode == AFTER:
            return f"after:{format_duration(timedelta(seconds=self.seconds))}"
        return IMMEDIATE


SUCCEED_OUTCOME, REJECT_OUTCOME, HOLD_OUTCOME = "succeed", "reject", "hold"


def due_events(
    state: str, *, outcome: str, reason: str | None, settlement: Settlement, checks: int, elapsed: float
) -> list[str]:
    """The events to apply now to a payment in `state`, in order; empty when nothing is due yet.

    `outcome` is what the payment is destined for (succeed, reject with `reason`, or hold: processing until
    cancelled). A payment for an annulled charge is refused as soon as processing starts, before any money moves.
    """
    if state in TERMINAL or not settlement.started(checks):
        return []
    if outcome == REJECT_OUTCOME and reason == CHARGE_ANNULLED:
        return [REJECT] if state == CREATED else []
    events = [PROCESS] if state == CREATED else []
    if outcome != HOLD_OUTCOME and settlement.due(checks, elapsed):
        events.append(SUCCEED if outcome == SUCCEED_OUTCOME else REJECT)
    return events
