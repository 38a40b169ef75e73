"""HTML for the login pages: the Jinja environment (autoescaped), page responses with their security headers and cookies."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
HTML = "text/html"
# Inline styles only, no scripts, nothing from elsewhere; never framed (clickjacking a consent page is the classic).
# No form-action: the consent form's answer redirects to the bank, which form-action would block in Chromium.
_SECURITY = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@functools.cache
def environment() -> Environment:
    """Built once per process on first use; every value a template prints is HTML-escaped."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(template: str, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> tuple[str, int, dict[str, str]]:
    html = environment().get_template(template).render(**context)
    return html, status, {"Content-Type": HTML, **_SECURITY, **(headers or {})}


def redirect(location: str) -> tuple[str, int, dict[str, str]]:
    return "", 302, {"Location": location, "Cache-Control": "no-store", "Pragma": "no-cache",
                     "Referrer-Policy": "no-referrer"}


def csrf_cookie_name(tx_id: str) -> str:
    # One cookie per login, so two logins in two tabs of one browser do not overwrite each other's proof.
    return f"gosim_csrf_{tx_id}"


def csrf_cookie(tx_id: str, value: str, path: str, max_age: int) -> str:
    return f"{csrf_cookie_name(tx_id)}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax"
