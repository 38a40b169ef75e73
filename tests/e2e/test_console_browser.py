"""The admin console in headless Chromium against a real server: switches change what the API answers; screenshots."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from support.browser import ARGS, CHROMIUM, artifacts, require_chromium
from support.oauth import Login
from support.payments import WebhookReceiver, live_headers, new_key, payment_body
from support.server import start_server

ARTIFACTS = artifacts("console")

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
sync_api = require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own: the test switches scenarios for every session, which must not reach other tests."""
    srv = start_server(tmp_path_factory.mktemp("console"), workers=2)
    yield srv
    srv.stop()


@pytest.fixture
def page():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def session() -> str:
    return f"pw-console-{uuid.uuid4().hex[:8]}"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fines_status(server, session: str, headers: dict[str, str]) -> int:
    return httpx.get(f"{server.url}/api/v1/fines", headers={**headers, "X-Gosim-Session": session}, timeout=30).status_code


def test_switching_portal_outage_in_the_page_changes_what_the_api_answers(server, page, session):
    expect = sync_api.expect
    with server.client() as c:
        headers = live_headers(c, session, scopes=["fines"], oid=1000000001)
    assert fines_status(server, session, headers) == 200

    page.goto(f"{server.url}/_sim/console?session={session}")
    expect(page.get_by_role("heading", name="Сценарии этой сессии")).to_be_visible()
    page.get_by_role("button", name="Включить portal-outage в этой сессии").click()
    expect(page.get_by_role("status")).to_have_text("Сценарий включён.")
    switch = page.get_by_role("switch", name="portal-outage", exact=True)
    expect(switch).to_have_attribute("aria-checked", "true")
    assert fines_status(server, session, headers) == 503
    shot(page, "1-scenarios-outage-on")

    switch.click()
    expect(page.get_by_role("status")).to_have_text("Сценарий выключен.")
    expect(page.get_by_role("switch", name="portal-outage", exact=True)).to_have_attribute("aria-checked", "false")
    assert fines_status(server, session, headers) == 200

    # The global layer: on for every session, then off again from its own switch.
    other = f"{session}-other"
    with server.client() as c:
        other_headers = live_headers(c, other, scopes=["fines"], oid=1000000001)
    page.get_by_role("button", name="Включить portal-outage для всех сессий").click()
    global_switch = page.get_by_role("switch", name="portal-outage (все сессии)")
    expect(global_switch).to_have_attribute("aria-checked", "true")
    assert fines_status(server, other, other_headers) == 503
    global_switch.click()
    expect(page.get_by_role("switch", name="portal-outage (все сессии)")).to_have_attribute("aria-checked", "false")
    assert fines_status(server, other, other_headers) == 200


def test_the_clock_buttons_move_the_time_shown(server, page, session):
    expect = sync_api.expect
    page.goto(f"{server.url}/_sim/console?session={session}")
    today = page.get_by_test_id("clock-today").inner_text()
    page.get_by_role("button", name="+1 день").click()
    expect(page.get_by_role("status")).to_have_text("Часы сессии переведены вперёд.")
    expect(page.get_by_test_id("clock-today")).not_to_have_text(today)
    page.get_by_role("button", name="+21 день").click()
    page.get_by_role("button", name="Остановить часы").click()
    expect(page.get_by_text("остановлены", exact=True)).to_be_visible()
    frozen = page.get_by_test_id("clock-now").inner_text()
    page.get_by_role("button", name="+1 час").click()
    expect(page.get_by_test_id("clock-now")).not_to_have_text(frozen)
    with httpx.Client(base_url=server.url) as c:
        clock = c.get("/_sim/clock", headers={"X-Gosim-Session": session}).json()
    assert clock["frozen"] is True and clock["offset_seconds"] >= 22 * 86400 + 3600 - 5
    page.get_by_label("Своя длительность").fill("P2W")
    page.get_by_role("button", name="Перевести").click()
    expect(page.get_by_role("status")).to_have_text("Часы сессии переведены вперёд.")
    page.locator("#clock").screenshot(path=str(ARTIFACTS / "2-clock-frozen.png"))
    page.get_by_role("button", name="Запустить часы").click()
    expect(page.get_by_text("идут", exact=True)).to_be_visible()


def test_every_panel_populated_in_screenshots(server, page, session):
    expect = sync_api.expect
    receiver = WebhookReceiver(respond=lambda event, seen: 200)
    try:
        with server.client() as c:
            # An SMS code: a login up to the SMS page.
            login = Login(c, session)
            login.start()
            assert login.login().status_code == 200
            code = login.sms_code()
            # Journal entries: fines with a token, one refused without.
            headers = live_headers(c, session, scopes=["fines"], oid=1000000001)
            assert c.get("/api/v1/fines", headers=headers).status_code == 200
            c.get("/api/v1/fines", headers={"X-Gosim-Session": session})
            # Webhook deliveries: a payment with a callback to a local receiver.
            bank = live_headers(c, session, scopes=["payments"])
            r = c.post("/api/v1/payments", json=payment_body(callback_url=receiver.url),
                       headers={**bank, "Idempotency-Key": new_key()})
            assert r.status_code == 201, r.text
            c.get(f"/api/v1/payments/{r.json()['id']}", headers=bank)
        receiver.wait_for(lambda got: len(got) >= 3)

        base = f"{server.url}/_sim/console"
        page.goto(f"{base}?session={session}")
        page.get_by_role("button", name="Включить flaky-payments в этой сессии").click()
        expect(page.get_by_role("switch", name="flaky-payments", exact=True)).to_have_attribute("aria-checked", "true")
        shot(page, "3-scenarios-and-clock")

        page.get_by_role("link", name="СМС").click()
        expect(page.get_by_role("heading", name="Исходящие СМС-коды")).to_be_visible()
        expect(page.get_by_test_id("sms-code").first).to_have_text(code)
        shot(page, "4-sms")

        page.get_by_role("link", name="Журнал запросов").click()
        expect(page.get_by_text("GET /api/v1/fines").first).to_be_visible()
        shot(page, "5-requests")
        page.get_by_label("Система (клиент)").select_option("demo-bank")
        page.get_by_label("Статус").fill("2xx")
        page.get_by_role("button", name="Показать").click()
        expect(page.get_by_test_id("journal-matched")).not_to_have_text("0")
        page.get_by_label("Операция").fill("ListFines")
        page.get_by_role("button", name="Показать").click()
        expect(page.get_by_test_id("journal-matched")).to_have_text("1")
        shot(page, "6-requests-filtered")

        page.get_by_role("link", name="Вебхуки").click()
        expect(page.get_by_test_id("webhook-status").first).to_have_text("доставлено")
        before = len(receiver.received)
        page.get_by_role("button", name=re.compile("^Отправить снова payment.created")).click()
        expect(page.get_by_role("status")).to_have_text("Уведомление поставлено в очередь на повторную отправку.")
        receiver.wait_for(lambda got: len(got) > before)
        page.reload()
        expect(page.get_by_test_id("webhook-replays")).to_have_text("1")
        shot(page, "7-webhooks")

        page.get_by_role("link", name="Граждане").click()
        expect(page.get_by_role("cell", name="Passw0rd!").first).to_be_visible()
        shot(page, "8-citizens")

        page.get_by_label("Сессия").fill("no spaces!")
        page.get_by_role("button", name="Открыть").click()
        expect(page.get_by_role("alert")).to_contain_text("Имя сессии")
        shot(page, "9-bad-session")
    finally:
        receiver.close()
