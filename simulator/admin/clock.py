"""Handlers of the `clock` tag: read, advance, freeze and unfreeze a session's simulated time."""

from __future__ import annotations

from ..domain.clock import parse_duration
from ..errors import ValidationFailed, field_error
from ..http.context import services, session


def _view(sess: str) -> dict:
    svc = services()
    clock = svc.clock.for_session(sess)
    state = svc.clock.state(sess)
    now = clock.now()
    return {
        "now": now.isoformat().replace("+00:00", "Z"),
        "today": clock.today().isoformat(),
        "frozen": state.get("frozen_at") is not None,
        "offset_seconds": round((now - svc.clock.base.now()).total_seconds(), 3),
    }


def get_clock() -> dict:
    return _view(session())


def advance_clock(body: dict) -> dict:
    try:
        delta = parse_duration(body["duration"])
    except ValueError as exc:
        raise ValidationFailed(errors=[field_error("duration", str(exc))]) from None
    sess = session()
    try:
        services().clock.advance(sess, delta)
    except ValueError as exc:
        raise ValidationFailed(errors=[field_error("duration", str(exc))]) from None
    return _view(sess)


def freeze_clock() -> dict:
    sess = session()
    services().clock.freeze(sess)
    return _view(sess)


def unfreeze_clock() -> dict:
    sess = session()
    services().clock.unfreeze(sess)
    return _view(sess)
