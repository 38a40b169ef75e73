"""HTML of the admin console: its autoescaped Jinja environment, pages, redirects, and the CSRF and sign-in cookies."""

from __future__ import annotations

import functools
import hmac
import json
import re
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
PREFIX = "/_sim/console"
CSRF_COOKIE = "gosim_console_csrf"
_CSRF_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_MSK = timezone(timedelta(hours=3))
# Nothing from elsewhere: styles come from gosim itself (offline), no scripts, never framed, forms post only here.
_SECURITY = {
    "Content-Type": "text/html",  # connexion matches it against the spec exactly; the body is sent as UTF-8
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
Page = tuple[str, int, dict[str, str]]


def moscow(value: Any) -> str:
    """An ISO timestamp as Moscow time for people ("02.03.2026 12:00:05"); anything unparsable as it came."""
    if not isinstance(value, str) or not value:
        return "—" if value in (None, "") else str(value)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if at.tzinfo is None:
        return value
    return at.astimezone(_MSK).strftime("%d.%m.%Y %H:%M:%S")


def utc(value: Any) -> str:
    """An ISO timestamp to the second ("2026-03-02T09:00:00Z"): the fraction only distracts a person."""
    text = str(value)
    return re.sub(r"\.\d+(?=Z|[+-]\d\d:\d\d$)", "", text)


def offset(seconds: Any) -> str:
    """How far a session's clock is from the shared one, as "+21 д 1 ч 0 мин"."""
    try:
        total = int(round(float(seconds)))
    except (TypeError, ValueError):
        return str(seconds)
    sign, total = ("−" if total < 0 else "+"), abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{sign}{days} д {hours} ч {rest // 60} мин"


def pretty(value: Any) -> str:
    """JSON for a <pre>: indented, Cyrillic as is; the template escapes it like any other value."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False, default=str)


@functools.cache
def environment() -> Environment:
    """Built once per process on first use; every value a template prints is HTML-escaped."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["msk"] = moscow
    env.filters["pretty"] = pretty
    env.filters["utc"] = utc
    env.filters["offset"] = offset
    return env


def stylesheet() -> str:
    return (TEMPLATES / "console" / "console.css").read_text(encoding="utf-8")


def csrf_token(given: str | None) -> tuple[str, bool]:
    """The browser's CSRF token if it has a well-formed one, else a new one; and whether a cookie must be set."""
    if given and _CSRF_RE.match(given):
        return given, False
    return secrets.token_urlsafe(32), True


def csrf_ok(cookie: str | None, form: str | None) -> bool:
    # Double submit: a page of another site can make the browser post here, but cannot read the cookie to copy it.
    if not cookie or not form or not _CSRF_RE.match(cookie):
        return False
    return hmac.compare_digest(cookie.encode("latin-1", "replace"), form.encode("latin-1", "replace"))


def csrf_cookie(value: str) -> str:
    return f"{CSRF_COOKIE}={value}; Path={PREFIX}; HttpOnly; SameSite=Strict"


def page(template: str, status: int = 200, cookies: list[str] | None = None, **context: Any) -> Page:
    html = environment().get_template(f"console/{template}").render(prefix=PREFIX, **context)
    headers = dict(_SECURITY)
    if cookies:
        # One header per cookie would be right; connexion takes a dict, and two cookies are never set at once here.
        headers["Set-Cookie"] = cookies[0]
    return html, status, headers


def url(path: str, params: dict[str, str | None] | None = None, anchor: str = "") -> str:
    query = urlencode({k: v for k, v in (params or {}).items() if v})
    return PREFIX + path + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def redirect(location: str, cookie: str | None = None) -> Page:
    # 303: the browser follows with a GET, so reloading the page never posts the form again.
    headers = {"Location": location, "Content-Type": "text/html", "Cache-Control": "no-store",
               "Referrer-Policy": "no-referrer"}
    if cookie:
        headers["Set-Cookie"] = cookie
    return "", 303, headers
