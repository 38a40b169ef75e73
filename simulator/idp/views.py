"""What each login page shows: template, HTTP status and context, built from the login transaction and its outcome."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from ..domain.clock import MSK
from ..domain.oauth import REQUIRED_SCOPES, SCOPE_LABELS, mask_phone
from ..services.identity import Outcome

if TYPE_CHECKING:
    from ..services.container import Services

TEMPLATE = {"login": "login.html", "sms": "sms.html", "consent": "consent.html", "refused": "refused.html",
            "locked": "locked.html"}

# The HTTP status of a page that shows a problem; browsers ignore it, tests and scripts switch on it (and on the
# data-error attribute of the alert, which carries the same code).
STATUS = {
    "CREDENTIALS_REQUIRED": 400, "INVALID_CREDENTIALS": 400, "SMS_CODE_FORMAT": 400, "SMS_CODE_INVALID": 400,
    "SMS_CODE_EXPIRED": 400, "DECISION_REQUIRED": 400, "LOGIN_LOCKED": 403, "ACCOUNT_LOCKED": 403, "NO_PHONE": 403,
    "ACCOUNT_NOT_CONFIRMED": 403, "WRONG_STEP": 409, "SMS_RESEND_TOO_EARLY": 429,
    # error pages (no login to go on with)
    "CLIENT_ID_MISSING": 400, "UNKNOWN_CLIENT": 400, "REDIRECT_URI_MISSING": 400, "REDIRECT_URI_MISMATCH": 400,
    "DUPLICATE_PARAMETER": 400, "BAD_SESSION": 400, "SESSION_MISMATCH": 400, "LOGIN_NOT_FOUND": 400,
    "LOGIN_EXPIRED": 400, "CSRF_FAILED": 403, "LOGIN_FINISHED": 409,
}


def base_path(issuer: str) -> str:
    """The path gosim is published under (empty at a host's root), so form actions work behind a path prefix."""
    return urlsplit(issuer).path.rstrip("/")


def actions(issuer: str) -> dict[str, str]:
    root = base_path(issuer) + "/oauth2/authorize"
    return {"login": f"{root}/login", "sms": f"{root}/sms", "resend": f"{root}/sms/resend",
            "consent": f"{root}/consent", "cancel": f"{root}/cancel", "root": root}


def _moscow(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=MSK).strftime("%d.%m.%Y %H:%M")


def step_page(svc: "Services", outcome: Outcome) -> tuple[str, int, dict[str, Any]]:
    """(template, status, context) for the step the login is at."""
    tx = outcome.tx or {}
    settings = svc.settings
    now = svc.clock.for_session(tx["session"]).now().timestamp()
    client = svc.clients.get(tx["client_id"])
    person = svc.directory.person(tx["oid"]) if tx.get("oid") else None
    sms = tx.get("sms") or {}
    resend_in = max(0, math.ceil(sms.get("sent_at", 0) + settings.sms_resend_cooldown - now)) if sms else 0
    root = base_path(settings.issuer)
    context: dict[str, Any] = {
        "tx": tx["id"], "csrf": tx["csrf"], "session": tx["session"], "step": tx["step"],
        "client_name": client.name if client else tx["client_id"], "client_id": tx["client_id"],
        "error": outcome.error, "message": outcome.message, "notice": outcome.notice,
        "login_hint": tx.get("login_hint") or "",
        "phone_masked": mask_phone(tx["phone"]) if tx.get("phone") else "",
        "resend_in": resend_in, "code_minutes": max(1, settings.sms_code_ttl // 60),
        "scopes": [
            {"name": s, "label": SCOPE_LABELS.get(s, s), "required": s in REQUIRED_SCOPES} for s in tx["scopes"]
        ],
        "person_name": "",
        "lock_until": _moscow(tx.get("lock_until")), "return_url": tx.get("return_url"),
        "refusal": tx.get("refusal") or "",
        "actions": actions(settings.issuer),
        "outbox_url": f"{root}/_sim/sms?phone={quote(tx['phone'])}" if tx.get("phone") else f"{root}/_sim/sms",
        "stories": story_logins(svc) if tx["step"] == "login" else [],
    }
    if person:
        context["person_name"] = " ".join(
            p for p in (person.get("last_name"), person.get("first_name"), person.get("middle_name")) if p
        )
    return TEMPLATE[tx["step"]], STATUS.get(outcome.error or "", 200), context


def error_page(code: str, message: str) -> tuple[str, int, dict[str, Any]]:
    return "error.html", STATUS.get(code, 400), {"error": code, "message": message}


_LEVELS = {"confirmed": "подтверждённая", "standard": "стандартная", "simplified": "упрощённая"}


def story_logins(svc: "Services") -> list[dict[str, str]]:
    """The story citizens as a hint under the login form: this is a simulator, and QA needs the logins at hand."""
    out = []
    for oid in svc.directory.stories[:12]:
        person = svc.directory.person(oid) or {}
        level = _LEVELS.get(person.get("level", ""), person.get("level", ""))
        out.append({
            "phone": person.get("phone", ""), "password": person.get("password", ""),
            "name": f"{person.get('last_name', '')} {person.get('first_name', '')}".strip(),
            "level": level + (", заблокирована" if person.get("locked") else ""),
        })
    return out
