"""Handlers of the `console` tag: the admin console's pages and forms, calling the same services as the /_sim API."""

from __future__ import annotations

import hmac
import re
from typing import Any, Callable

from ..domain.clock import parse_duration
from ..errors import GosimError, ScenarioNotFound, WebhookDeliveryNotFound
from ..http.context import services
from ..idp.forms import cookie, form_fields
from ..services.container import Services
from ..services.sessions import DEFAULT_SESSION, parse_session
from . import console_render as render
from .clock import _view as clock_view
from .data import list_story_citizens
from .guard import CONSOLE_COOKIE, console_cookie_value

Page = render.Page
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_EVENT = re.compile(r"^evt_[0-9a-f]{32}$")
_STATUS = re.compile(r"^([0-9]{1,3}|[1-5]xx)$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
ADVANCE_BUTTONS = (("PT1H", "+1 час"), ("P1D", "+1 день"), ("P21D", "+21 день"), ("P61D", "+61 день"))
JOURNAL_LIMIT = 100
SMS_LIMIT = 50
WEBHOOK_LIMIT = 200

NOTICES = {
    "SCENARIO_ON": "Сценарий включён.",
    "SCENARIO_OFF": "Сценарий выключен.",
    "CLOCK_ADVANCED": "Часы сессии переведены вперёд.",
    "CLOCK_FROZEN": "Часы сессии остановлены.",
    "CLOCK_RUNNING": "Часы сессии снова идут.",
    "WEBHOOK_REPLAYED": "Уведомление поставлено в очередь на повторную отправку.",
}
ERRORS = {
    "BAD_SESSION": "Имя сессии: 1–64 латинских букв, цифр, точек, дефисов или подчёркиваний (первый символ — буква "
                   "или цифра).",
    "BAD_FORM": "Форма заполнена неверно. Обновите страницу и попробуйте ещё раз.",
    "BAD_DURATION": "Длительность — в формате ISO 8601, например PT1H, P1D, P21D или P1DT2H; годы и месяцы не "
                    "подходят, часы уходят вперёд не больше чем на век.",
    "BAD_STATUS": "Статус — три цифры (503) или класс (5xx).",
    "SCENARIO_NOT_FOUND": "Такого сценария нет ни в сессии, ни в общем слое, ни среди пресетов.",
    "WEBHOOK_DELIVERY_NOT_FOUND": "Такого уведомления в журнале этой сессии нет.",
    "CONFLICT": "У этого уведомления нет адреса доставки (ни webhook у системы, ни callback_url у платежа): "
                "повторять некуда.",
    "CSRF_FAILED": "Форма устарела или отправлена не со страницы консоли. Откройте страницу заново и повторите.",
    "INVALID_TOKEN": "Токен не подошёл. Это значение GOSIM_ADMIN_TOKEN, с которым запущен gosim.",
}
NAV = (("scenarios", "", "Сценарии и часы"), ("sms", "/sms", "СМС"), ("requests", "/requests", "Журнал запросов"),
       ("webhooks", "/webhooks", "Вебхуки"), ("citizens", "/citizens", "Граждане"))
LAYERS = {"session": "сессия", "global": "общий", "preset": "пресет"}
SOURCES = {"file": "файл сценариев", "api": "API", "preset": "пресет", "override": "переключён в сессии"}


class _Refused(Exception):
    """A console form that cannot be acted on; `code` picks the message shown after the redirect."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# -- pages ------------------------------------------------------------------------------------------------------------
def get_console(session: str | None = None, notice: str | None = None, error: str | None = None) -> Page:
    def scenarios(svc: Services, sess: str) -> dict[str, Any]:
        mine = svc.scenarios.list(sess)
        on = {s["name"] for s in mine if s["enabled"]}
        return {
            "scenarios": mine, "global_scenarios": svc.scenarios.global_list(), "presets": svc.scenarios.presets(),
            "enabled_names": on, "clock": clock_view(sess), "advance_buttons": ADVANCE_BUTTONS,
        }

    return _page("scenarios.html", "scenarios", session, scenarios, notice, error)


def get_console_sms(session: str | None = None) -> Page:
    return _page("sms.html", "sms", session,
                 lambda svc, sess: {"messages": svc.identity.outbox(sess, None, SMS_LIMIT)["items"]})


def get_console_requests(session: str | None = None, client: str | None = None, operation: str | None = None,
                         status: str | None = None) -> Page:
    filters = {"client": (client or "").strip(), "operation": (operation or "").strip(),
               "status": (status or "").strip().lower()}

    def journal(svc: Services, sess: str) -> dict[str, Any]:
        found: dict[str, Any] = {"items": [], "matched": 0, "size": svc.journal.size}
        problem = filters["status"] and not _STATUS.match(filters["status"])
        if not problem:
            found = svc.journal.query(session=sess, client=filters["client"] or None,
                                      operation=filters["operation"] or None, status=filters["status"] or None,
                                      limit=JOURNAL_LIMIT)
        return {
            "entries": found["items"], "matched": found["matched"], "ring_size": found["size"], "filters": filters,
            "filtered": any(filters.values()), "status_invalid": bool(problem),
            "clients": sorted(c.client_id for c in svc.clients),
            "operations": sorted(svc.scenarios.operations or ()), "limit": JOURNAL_LIMIT,
        }

    bad = bool(filters["status"]) and not _STATUS.match(filters["status"])
    return _page("requests.html", "requests", session, journal, None, "BAD_STATUS" if bad else None,
                 status=422 if bad else 200)


def get_console_webhooks(session: str | None = None, notice: str | None = None, error: str | None = None) -> Page:
    return _page("webhooks.html", "webhooks", session,
                 lambda svc, sess: {"deliveries": svc.webhooks.list(sess, limit=WEBHOOK_LIMIT)["items"]},
                 notice, error)


def get_console_citizens(session: str | None = None) -> Page:
    return _page("citizens.html", "citizens", session, lambda svc, sess: {"citizens": list_story_citizens()["items"]})


def get_console_stylesheet() -> tuple[str, int, dict[str, str]]:
    return render.stylesheet(), 200, {"Content-Type": "text/css", "Cache-Control": "no-cache",
                                      "X-Content-Type-Options": "nosniff"}


# -- forms ------------------------------------------------------------------------------------------------------------
def console_toggle_scenario(body: Any = None) -> Page:
    def toggle(svc: Services, sess: str, form: dict[str, str]) -> str:
        name, layer, state = form.get("name", ""), form.get("layer") or "session", form.get("enabled")
        if layer not in ("session", "global") or state not in ("on", "off"):
            raise _Refused("BAD_FORM")
        if not _NAME.match(name):
            raise ScenarioNotFound()
        svc.scenarios.set_enabled(sess, name, state == "on", layer)
        return "SCENARIO_ON" if state == "on" else "SCENARIO_OFF"

    return _act(body, "", "scenarios", toggle)


def console_advance_clock(body: Any = None) -> Page:
    def advance(svc: Services, sess: str, form: dict[str, str]) -> str:
        try:
            svc.clock.advance(sess, parse_duration(form.get("duration", "").strip()))
        except ValueError:
            raise _Refused("BAD_DURATION") from None
        return "CLOCK_ADVANCED"

    return _act(body, "", "clock", advance)


def console_freeze_clock(body: Any = None) -> Page:
    def freeze(svc: Services, sess: str, form: dict[str, str]) -> str:
        svc.clock.freeze(sess)
        return "CLOCK_FROZEN"

    return _act(body, "", "clock", freeze)


def console_unfreeze_clock(body: Any = None) -> Page:
    def unfreeze(svc: Services, sess: str, form: dict[str, str]) -> str:
        svc.clock.unfreeze(sess)
        return "CLOCK_RUNNING"

    return _act(body, "", "clock", unfreeze)


def console_replay_webhook(body: Any = None) -> Page:
    def replay(svc: Services, sess: str, form: dict[str, str]) -> str:
        event_id = form.get("event_id", "")
        if not _EVENT.match(event_id):
            raise WebhookDeliveryNotFound()
        svc.webhooks.replay(sess, event_id)
        return "WEBHOOK_REPLAYED"

    return _act(body, "/webhooks", "", replay)


# -- signing in (only when GOSIM_ADMIN_TOKEN is set) ------------------------------------------------------------------
def get_console_login(next: str | None = None) -> Page:  # noqa: A002 (the spec's name)
    svc = services()
    if not svc.settings.admin_token:
        return render.redirect(_next(next))
    token, fresh = render.csrf_token(cookie(render.CSRF_COOKIE))
    return render.page("login.html", 200, [render.csrf_cookie(token)] if fresh else None,
                       csrf=token, next=_next(next), **_messages(None, None), **_chrome(None, "login"))


def console_login(body: Any = None) -> Page:
    svc = services()
    form = form_fields(body)
    expected = svc.settings.admin_token
    if not expected:
        return render.redirect(_next(form.get("next")))
    if not render.csrf_ok(cookie(render.CSRF_COOKIE), form.get("csrf_token")):
        return _refused()
    given = form.get("token", "")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace")):
        return render.page("login.html", 401, csrf=form.get("csrf_token"), next=_next(form.get("next")),
                           **_messages(None, "INVALID_TOKEN"), **_chrome(None, "login"))
    secure = "; Secure" if svc.settings.issuer.startswith("https://") else ""
    value = console_cookie_value(expected)
    return render.redirect(_next(form.get("next")),
                           cookie=f"{CONSOLE_COOKIE}={value}; Path={render.PREFIX}; HttpOnly; SameSite=Strict{secure}")


def console_logout(body: Any = None) -> Page:
    form = form_fields(body)
    if not render.csrf_ok(cookie(render.CSRF_COOKIE), form.get("csrf_token")):
        return _refused()
    gone = f"{CONSOLE_COOKIE}=; Path={render.PREFIX}; Max-Age=0; HttpOnly; SameSite=Strict"
    return render.redirect(render.PREFIX + ("/login" if services().settings.admin_token else ""), cookie=gone)


# -- plumbing ---------------------------------------------------------------------------------------------------------
def _parse_session(raw: str | None) -> str | None:
    try:
        return parse_session((raw or "").strip() or DEFAULT_SESSION)
    except GosimError:
        return None


def _chrome(session: str | None, active: str) -> dict[str, Any]:
    """What every page's frame shows: the navigation, the session picker and the sign-out button."""
    return {"session": session or DEFAULT_SESSION, "nav": NAV, "active": active, "layers": LAYERS,
            "sources": SOURCES, "signed_in": bool(services().settings.admin_token)}


def _messages(notice: str | None, error: str | None) -> dict[str, Any]:
    code = error if error and _CODE.match(error) else None
    message = (ERRORS.get(code) or f"Действие не выполнено (код {code}).") if code else None
    return {"notice": NOTICES.get(notice or ""), "error": code, "message": message}


def _page(template: str, active: str, raw_session: str | None, build: Callable[[Services, str], dict[str, Any]],
          notice: str | None = None, error: str | None = None, status: int = 200) -> Page:
    svc = services()
    token, fresh = render.csrf_token(cookie(render.CSRF_COOKIE))
    cookies = [render.csrf_cookie(token)] if fresh else None
    sess = _parse_session(raw_session)
    if sess is None:
        # The picker shows what was typed, so it can be corrected; nothing is read for a session that cannot exist.
        return render.page("bad_session.html", 422, cookies, csrf=token, typed=raw_session or "",
                           **_chrome(None, active), **_messages(None, "BAD_SESSION"))
    return render.page(template, status, cookies, csrf=token, **_chrome(sess, active), **_messages(notice, error),
                       **build(svc, sess))


def _act(body: Any, path: str, anchor: str, action: Callable[[Services, str, dict[str, str]], str]) -> Page:
    """A console form: CSRF first, then one service call, then back to the page (POST/redirect/GET)."""
    form = form_fields(body)
    if not render.csrf_ok(cookie(render.CSRF_COOKIE), form.get("csrf_token")):
        return _refused()
    sess = _parse_session(form.get("session"))
    if sess is None:
        return render.redirect(render.PREFIX + path + "?error=BAD_SESSION")
    try:
        outcome: dict[str, str] = {"notice": action(services(), sess, form)}
    except _Refused as exc:
        outcome = {"error": exc.code}
    except GosimError as exc:
        outcome = {"error": exc.code}
    return render.redirect(render.url(path, {"session": sess, **outcome}, anchor))


def _refused() -> Page:
    token, fresh = render.csrf_token(cookie(render.CSRF_COOKIE))
    return render.page("refused.html", 403, [render.csrf_cookie(token)] if fresh else None, csrf=token,
                       **_chrome(None, ""), **_messages(None, "CSRF_FAILED"))


def _next(raw: str | None) -> str:
    """Only console addresses are followed after signing in: anything else would be an open redirect."""
    target = (raw or "").strip()
    if target == render.PREFIX or (target.startswith(render.PREFIX) and target[len(render.PREFIX)] in "/?#"):
        if "\\" not in target and all(32 < ord(ch) < 127 for ch in target):
            return target
    return render.PREFIX
