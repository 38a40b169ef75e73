"""The admin console in-process: every page renders, every form changes state and redirects, CSRF, escaping, access."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import bearer
from support.payments import HOLD_ACCOUNT, new_key, payment_body

from simulator.app import create_app

SESSION = "qa-console"
CONSOLE = "/_sim/console"
ADMIN_TOKEN = "console-admin-token"


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.csrf: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") == "csrf_token":
            self.csrf = a.get("value")


def csrf_of(html: str) -> str:
    parser = _Fields()
    parser.feed(html)
    assert parser.csrf, "the page has no form with a csrf_token"
    return parser.csrf


def open_page(http, path: str = "", session: str = SESSION, **params) -> str:
    r = http.get(CONSOLE + path, params={"session": session, **params})
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def post(client, action: str, session: str = SESSION, csrf: str | None = None, **fields):
    token = csrf if csrf is not None else csrf_of(open_page(client, session=session))
    return client.post(CONSOLE + action, data={"session": session, "csrf_token": token, **fields},
                       follow_redirects=False)


def redirected(r) -> dict[str, str]:
    assert r.status_code == 303, (r.status_code, r.text[:500])
    location = r.headers["location"]
    assert location.startswith(CONSOLE)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def scenario(client, name: str, session: str = SESSION) -> dict:
    items = client.get("/_sim/scenarios", headers={"X-Gosim-Session": session}).json()["items"]
    return next((s for s in items if s["name"] == name), {})


# -- pages ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, heading, content", [
    ("", "Сценарии и часы", "portal-outage"),
    ("/sms", "СМС", "СМС пока нет"),
    ("/requests", "Журнал запросов", "Фильтры"),
    ("/webhooks", "Вебхуки", "Уведомлений в этой сессии нет"),
    ("/citizens", "Граждане для историй", "Passw0rd!"),
])
def test_every_panel_renders_with_its_heading_and_content(client, path, heading, content):
    html = open_page(client, path)
    assert f"<h1>{heading}" in html or f">{heading}</h1>" in html
    assert content in html
    assert 'aria-current="page"' in html
    assert f'value="{SESSION}"' in html  # the session picker shows the session the console works in


def test_the_console_is_served_with_its_own_stylesheet_and_no_scripts_from_elsewhere(client):
    html = open_page(client)
    assert '<link rel="stylesheet" href="/_sim/console/console.css">' in html
    assert "<script" not in html and "https://" not in html
    css = client.get(f"{CONSOLE}/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    policy = client.get(CONSOLE).headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_the_session_defaults_to_default(client):
    html = client.get(CONSOLE).text
    assert 'value="default"' in html


def test_the_main_page_shows_the_clock_and_the_presets(client):
    html = open_page(client)
    assert "02.03.2026 12:00:00" in html  # the fixed test clock (09:00 UTC) in Moscow time
    assert "2026-03-02" in html
    for label in ("+1 час", "+1 день", "+21 день", "+61 день", "Остановить часы"):
        assert label in html


def test_the_sms_panel_lists_the_codes_the_login_pages_sent(client):
    from support.oauth import Login

    login = Login(client, SESSION)
    login.start()
    login.login()
    code = login.sms_code()
    html = open_page(client, "/sms")
    assert code in html and "+79160000001" in html


def test_the_journal_panel_lists_calls_and_filters_by_client_operation_and_status(client, mint):
    headers = {**bearer(mint(["fines"], session=SESSION)), "X-Gosim-Session": SESSION}
    assert client.get("/api/v1/fines", headers=headers).status_code == 200
    client.get("/api/v1/fines", headers={"X-Gosim-Session": SESSION})  # no token: 401
    html = open_page(client, "/requests")
    assert "GET /api/v1/fines" in html and "ListFines" in html
    assert 'data-testid="journal-matched">2<' in open_page(client, "/requests")
    assert 'data-testid="journal-matched">1<' in open_page(client, "/requests", status="4xx")
    assert 'data-testid="journal-matched">1<' in open_page(client, "/requests", client="demo-bank", status="200")
    assert 'data-testid="journal-matched">2<' in open_page(client, "/requests", operation="ListFines")
    assert 'data-testid="journal-matched">0<' in open_page(client, "/requests", operation="CreatePayment")


def test_a_malformed_status_filter_is_a_form_error_not_a_failure(client):
    r = client.get(f"{CONSOLE}/requests", params={"session": SESSION, "status": "abc"})
    assert r.status_code == 422
    assert 'data-error="BAD_STATUS"' in r.text and 'aria-invalid="true"' in r.text


def test_a_malformed_session_is_a_422_page_with_the_picker(client):
    r = client.get(CONSOLE, params={"session": "no spaces!"})
    assert r.status_code == 422
    assert 'data-error="BAD_SESSION"' in r.text and 'value="no spaces!"' in r.text


# -- actions ----------------------------------------------------------------------------------------------------------
def test_switching_a_preset_on_in_the_session_makes_the_portal_answer_503_and_off_restores_it(client, mint):
    headers = {**bearer(mint(["fines"], session=SESSION)), "X-Gosim-Session": SESSION}
    query = redirected(post(client, "/scenarios/toggle", name="portal-outage", layer="session", enabled="on"))
    assert query == {"session": SESSION, "notice": "SCENARIO_ON"}
    assert scenario(client, "portal-outage")["enabled"] is True
    assert client.get("/api/v1/fines", headers=headers).status_code == 503
    assert client.get("/api/v1/fines", headers={**headers, "X-Gosim-Session": "other"}).status_code != 503
    html = open_page(client, notice="SCENARIO_ON")
    assert "Сценарий включён." in html and 'aria-checked="true"' in html

    redirected(post(client, "/scenarios/toggle", name="portal-outage", layer="session", enabled="off"))
    assert scenario(client, "portal-outage")["enabled"] is False
    assert client.get("/api/v1/fines", headers=headers).status_code == 200


def test_switching_a_preset_on_for_everyone_reaches_every_session(client):
    redirected(post(client, "/scenarios/toggle", name="slow-fines", layer="global", enabled="on"))
    assert scenario(client, "slow-fines", session="someone-else")["enabled"] is True
    assert "slow-fines" in open_page(client, session="someone-else")
    redirected(post(client, "/scenarios/toggle", name="slow-fines", layer="global", enabled="off"))
    assert scenario(client, "slow-fines", session="someone-else")["enabled"] is False


def test_the_clock_buttons_advance_freeze_and_unfreeze_the_sessions_clock(client):
    before = client.get("/_sim/clock", headers={"X-Gosim-Session": SESSION}).json()
    assert redirected(post(client, "/clock/advance", duration="P21D"))["notice"] == "CLOCK_ADVANCED"
    after = client.get("/_sim/clock", headers={"X-Gosim-Session": SESSION}).json()
    assert after["offset_seconds"] - before["offset_seconds"] >= 21 * 86400
    assert "2026-03-23" in open_page(client)

    assert redirected(post(client, "/clock/freeze"))["notice"] == "CLOCK_FROZEN"
    assert client.get("/_sim/clock", headers={"X-Gosim-Session": SESSION}).json()["frozen"] is True
    assert "Запустить часы" in open_page(client)
    assert redirected(post(client, "/clock/unfreeze"))["notice"] == "CLOCK_RUNNING"
    assert client.get("/_sim/clock", headers={"X-Gosim-Session": SESSION}).json()["frozen"] is False
    assert client.get("/_sim/clock").json()["offset_seconds"] < 60  # the default session did not move


@pytest.mark.parametrize("duration", ["", "tomorrow", "P1M", "-P1D", "P99999D", "P" + "9" * 60 + "D"])
def test_a_bad_duration_is_refused_with_a_message_and_the_clock_stays(client, duration):
    before = client.get("/_sim/clock", headers={"X-Gosim-Session": SESSION}).json()["offset_seconds"]
    query = redirected(post(client, "/clock/advance", duration=duration))
    assert query["error"] == "BAD_DURATION"
    assert abs(client.get("/_sim/clock", headers={"X-Gosim-Session": SESSION}).json()["offset_seconds"] - before) < 5
    assert 'data-error="BAD_DURATION"' in open_page(client, error="BAD_DURATION")


def test_the_webhook_panel_lists_deliveries_and_replays_one(client, mint):
    bank = {**bearer(mint(["payments"], oid=None, session=SESSION)), "X-Gosim-Session": SESSION}
    body = payment_body(payer={"name": "И", "account": HOLD_ACCOUNT}, callback_url="http://127.0.0.1:9/hooks")
    r = client.post("/api/v1/payments", json=body, headers={**bank, "Idempotency-Key": new_key()})
    assert r.status_code == 201, r.text
    html = open_page(client, "/webhooks")
    assert "payment.created" in html and "http://127.0.0.1:9/hooks" in html
    event = client.get("/_sim/webhooks", headers={"X-Gosim-Session": SESSION}).json()["items"][0]
    assert redirected(post(client, "/webhooks/replay", event_id=event["id"]))["notice"] == "WEBHOOK_REPLAYED"
    again = client.get("/_sim/webhooks", headers={"X-Gosim-Session": SESSION}).json()["items"][0]
    assert again["replays"] == 1
    assert 'data-testid="webhook-replays">1<' in open_page(client, "/webhooks")


# -- refusals: never a 500 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fields, code", [
    ({"name": "no-such-scenario", "layer": "session", "enabled": "on"}, "SCENARIO_NOT_FOUND"),
    ({"name": "../../etc", "layer": "session", "enabled": "on"}, "SCENARIO_NOT_FOUND"),
    ({"name": "portal-outage", "layer": "everywhere", "enabled": "on"}, "BAD_FORM"),
    ({"name": "portal-outage", "layer": "session", "enabled": "maybe"}, "BAD_FORM"),
    ({}, "BAD_FORM"),
])
def test_a_toggle_that_cannot_be_done_comes_back_with_an_error(client, fields, code):
    assert redirected(post(client, "/scenarios/toggle", **fields))["error"] == code
    html = open_page(client, error=code)
    assert f'data-error="{code}"' in html and 'role="alert"' in html


def test_a_replay_of_an_unknown_or_garbage_event_comes_back_with_an_error(client):
    assert redirected(post(client, "/webhooks/replay", event_id="evt_" + "0" * 32))["error"] == "WEBHOOK_DELIVERY_NOT_FOUND"
    assert redirected(post(client, "/webhooks/replay", event_id="<x>"))["error"] == "WEBHOOK_DELIVERY_NOT_FOUND"


def test_a_form_with_a_malformed_session_comes_back_with_an_error(client):
    token = csrf_of(open_page(client))
    assert redirected(post(client, "/clock/freeze", session="bad session", csrf=token))["error"] == "BAD_SESSION"


def test_unknown_form_fields_and_notice_codes_are_refused_or_ignored_without_a_500(client):
    token = csrf_of(open_page(client))
    r = client.post(f"{CONSOLE}/clock/freeze", data={"csrf_token": token, "junk": "x"}, follow_redirects=False)
    assert r.status_code == 400
    assert client.get(CONSOLE, params={"notice": "NOPE", "error": "<b>"}).status_code == 200
    assert client.post(f"{CONSOLE}/clock/freeze", content=b"\xff\xfe", follow_redirects=False,
                       headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code < 500


# -- CSRF -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("csrf", ["", "wrong-token-wrong-token-wrong-token-00"])
def test_a_form_without_the_pages_csrf_token_is_refused_and_changes_nothing(client, csrf):
    open_page(client)  # the browser has its cookie
    r = post(client, "/scenarios/toggle", csrf=csrf, name="portal-outage", layer="session", enabled="on")
    assert r.status_code == 403 and 'data-error="CSRF_FAILED"' in r.text
    assert scenario(client, "portal-outage") == {}


def test_a_form_posted_without_the_csrf_cookie_is_refused(client, app):
    token = csrf_of(open_page(client))
    with app.test_client() as stranger:  # another browser: the same token, but no cookie to match it
        r = stranger.post(f"{CONSOLE}/clock/advance", data={"session": SESSION, "csrf_token": token, "duration": "P1D"},
                          follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/_sim/clock", headers={"X-Gosim-Session": SESSION}).json()["offset_seconds"] < 60


def test_the_csrf_cookie_is_httponly_strict_and_scoped_to_the_console(app):
    with app.test_client() as fresh:
        cookie = fresh.get(CONSOLE).headers["set-cookie"]
    assert cookie.startswith("gosim_console_csrf=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_sim/console" in cookie


# -- escaping ---------------------------------------------------------------------------------------------------------
def test_a_scenario_described_with_a_script_tag_comes_back_escaped(client):
    evil = '<script>alert("x")</script>'
    r = client.post("/_sim/scenarios", headers={"X-Gosim-Session": SESSION}, json={
        "name": "xss-probe", "description": evil, "rules": [{"match": {"operation": "ListFines"}, "status": 503}]})
    assert r.status_code == 201, r.text
    html = open_page(client)
    assert "xss-probe" in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_values_typed_into_the_console_come_back_escaped(client):
    r = client.get(CONSOLE, params={"session": "<script>x</script>"})
    assert r.status_code == 422 and "<script>" not in r.text and "&lt;script&gt;" in r.text
    html = open_page(client, "/requests", client="<img src=x>", operation='"><svg>')
    assert "<img src=x>" not in html and "<svg>" not in html
    assert "&lt;img src=x&gt;" in html


# -- access with GOSIM_ADMIN_TOKEN ------------------------------------------------------------------------------------
@pytest.fixture
def guarded(settings):
    app = create_app(settings.replace(admin_token=ADMIN_TOKEN))
    with app.test_client() as c:
        yield c


def test_without_the_token_a_console_page_redirects_to_the_sign_in_form(guarded):
    r = guarded.get(CONSOLE, params={"session": SESSION}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"{CONSOLE}/login?next=%2F_sim%2Fconsole%3Fsession%3D{SESSION}"
    login = guarded.get(r.headers["location"])
    assert login.status_code == 200 and "Токен администратора" in login.text
    assert guarded.get(f"{CONSOLE}/console.css").status_code == 200
    assert guarded.post(f"{CONSOLE}/clock/freeze", data={}).status_code == 401


def test_a_wrong_token_in_the_sign_in_form_is_refused(guarded):
    token = csrf_of(guarded.get(f"{CONSOLE}/login").text)
    r = guarded.post(f"{CONSOLE}/login", data={"csrf_token": token, "token": "guess"}, follow_redirects=False)
    assert r.status_code == 401 and 'data-error="INVALID_TOKEN"' in r.text
    assert guarded.get(CONSOLE, follow_redirects=False).status_code == 303


def test_signing_in_opens_the_console_but_not_the_json_api_and_signing_out_closes_it(guarded):
    token = csrf_of(guarded.get(f"{CONSOLE}/login").text)
    r = guarded.post(f"{CONSOLE}/login", data={"csrf_token": token, "token": ADMIN_TOKEN,
                                               "next": f"{CONSOLE}/sms?session={SESSION}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{CONSOLE}/sms?session={SESSION}"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("gosim_admin=") and ADMIN_TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_sim/console" in cookie
    assert guarded.get(CONSOLE, params={"session": SESSION}).status_code == 200
    assert redirected(post(guarded, "/clock/advance", duration="PT1H"))["notice"] == "CLOCK_ADVANCED"
    assert guarded.get("/_sim/clock").status_code == 401  # the cookie is for the console pages only

    out = guarded.post(f"{CONSOLE}/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == f"{CONSOLE}/login"
    assert guarded.get(CONSOLE, follow_redirects=False).status_code == 303


def test_the_bearer_header_opens_the_console_too(guarded):
    r = guarded.get(CONSOLE, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200 and "portal-outage" in r.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/_sim/consoleX", "/api/v1/fines",
                                    "/_sim/console\\@evil"])
def test_signing_in_never_redirects_outside_the_console(guarded, target):
    token = csrf_of(guarded.get(f"{CONSOLE}/login").text)
    r = guarded.post(f"{CONSOLE}/login", data={"csrf_token": token, "token": ADMIN_TOKEN, "next": target},
                     follow_redirects=False)
    assert r.headers["location"] == CONSOLE


def test_without_a_token_configured_the_sign_in_page_just_opens_the_console(client):
    r = client.get(f"{CONSOLE}/login", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == CONSOLE
    assert re.search(r"Выйти", open_page(client)) is None  # nothing to sign out of
