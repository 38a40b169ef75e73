"""Test-run sessions (X-Gosim-Session): validating ids and naming each session's storage namespaces."""

from __future__ import annotations

import re

from ..errors import InvalidParameter, field_error

DEFAULT_SESSION = "default"
HEADER = "X-Gosim-Session"
_SESSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def parse_session(raw: str | None) -> str:
    """The session a request belongs to; a malformed id is a 400, never a silent fallback to the shared one."""
    if raw is None or raw == "":
        return DEFAULT_SESSION
    if not _SESSION_RE.match(raw):
        raise InvalidParameter(
            "Идентификатор сессии: 1–64 латинских букв, цифр, точек, дефисов или подчёркиваний.",
            errors=[field_error(HEADER, "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")],
        )
    return raw


def ns(session: str, name: str) -> str:
    """A session's namespace; everything mutable lives under one, so a reset of a session is one prefix delete."""
    return f"{session}/{name}"


def session_prefix(session: str) -> str:
    return f"{session}/"
