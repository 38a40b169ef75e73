"""Handlers of the `authorize` tag: the authorization request and the login, SMS code and consent forms (HTML)."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import InvalidParameter
from ..http.context import services
from ..services.identity import FlowError, FormProof, Outcome
from ..services.sessions import parse_session
from . import render, views
from .forms import cookie, form_fields, form_list, query, session_header

AUTHORIZE_PARAMS = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "prompt", "login_hint", "gosim_session",
)
Page = tuple[str, int, dict[str, str]]


def authorize() -> Page:
    svc = services()
    try:
        params, repeated = query(AUTHORIZE_PARAMS)
        if repeated:
            raise FlowError("DUPLICATE_PARAMETER", f"Параметр {repeated[0]} передан несколько раз (ESIA-007014).")
        outcome = svc.identity.begin(_session(params.get("gosim_session")), params)
    except FlowError as exc:
        return _error(exc)
    html, status, headers = _show(outcome)
    if outcome.tx is not None:
        tx = outcome.tx
        path = views.actions(svc.settings.issuer)["root"]
        headers["Set-Cookie"] = render.csrf_cookie(tx["id"], tx["csrf"], path, svc.settings.login_ttl)
    return html, status, headers


def submit_login(body: Any = None) -> Page:
    return _post(body, lambda svc, session, proof, form: svc.identity.submit_login(
        session, proof, form.get("login"), form.get("password")))


def submit_sms_code(body: Any = None) -> Page:
    return _post(body, lambda svc, session, proof, form: svc.identity.submit_code(session, proof, form.get("code")))


def resend_sms_code(body: Any = None) -> Page:
    return _post(body, lambda svc, session, proof, form: svc.identity.resend(session, proof))


def submit_consent(body: Any = None) -> Page:
    return _post(body, lambda svc, session, proof, form: svc.identity.submit_consent(
        session, proof, form.get("decision"), form_list(body, "scope")))


def cancel_login(body: Any = None) -> Page:
    return _post(body, lambda svc, session, proof, form: svc.identity.cancel(session, proof))


# -- plumbing ------------------------------------------------------------------------------------------------------
def _session(explicit: str | None) -> str:
    """gosim_session (query or hidden field: a browser sends no custom headers) or X-Gosim-Session; they must agree."""
    header = session_header()
    if explicit and header and explicit != header:
        raise FlowError("SESSION_MISMATCH", "gosim_session и заголовок X-Gosim-Session называют разные сессии.")
    try:
        return parse_session(explicit or header)
    except InvalidParameter:
        raise FlowError(
            "BAD_SESSION", "Сессия симулятора (gosim_session): 1–64 латинских букв, цифр, точек, дефисов, подчёркиваний."
        ) from None


def _post(body: Any, action: Callable[[Any, str, FormProof, dict[str, str]], Outcome]) -> Page:
    svc = services()
    form = form_fields(body)
    try:
        session = _session(form.get("gosim_session"))
        tx_id = form.get("tx")
        proof = FormProof(
            tx_id=tx_id, csrf_form=form.get("csrf_token"),
            csrf_cookie=cookie(render.csrf_cookie_name(tx_id)) if tx_id and len(tx_id) <= 64 else None,
        )
        outcome = action(svc, session, proof, form)
    except FlowError as exc:
        return _error(exc)
    return _show(outcome)


def _show(outcome: Outcome) -> Page:
    if outcome.redirect is not None:
        return render.redirect(outcome.redirect)
    template, status, context = views.step_page(services(), outcome)
    extra = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after else {}
    return render.page(template, status, extra, **context)


def _error(exc: FlowError) -> Page:
    template, status, context = views.error_page(exc.code, exc.message)
    return render.page(template, status, **context)
