"""The login pages in headless Chromium (Debian's binary, driven by Playwright): login, SMS code, consent, refusal."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import httpx
import pytest

from support.browser import ARGS, CHROMIUM, artifacts, require_chromium
from support.oauth import BANK_REDIRECT, PASSWORD, exchange, pkce_pair, query_of

ARTIFACTS = artifacts("login-browser")

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
sync_api = require_chromium()


@pytest.fixture
def page():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(locale="ru-RU", viewport={"width": 1024, "height": 900})
            yield context.new_page()
        finally:
            browser.close()


def callback_catcher(page) -> dict[str, str]:
    """Nothing listens on the bank's loopback redirect_uri: answer it inside the browser and remember the URL."""
    caught: dict[str, str] = {}

    def answer(route):
        caught["url"] = route.request.url
        route.fulfill(status=200, content_type="text/html; charset=utf-8",
                      body="<!doctype html><html lang=ru><title>Банк</title><h1>Банк получил ответ</h1></html>")

    page.route("http://127.0.0.1:8081/**", answer)
    return caught


def sms_code(base_url: str, session: str, phone: str) -> str:
    r = httpx.get(f"{base_url}/_sim/sms", params={"phone": phone}, headers={"X-Gosim-Session": session})
    return r.json()["items"][0]["code"]


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def authorize_url(base_url: str, session: str, challenge: str, state: str) -> str:
    return f"{base_url}/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": "demo-bank", "redirect_uri": BANK_REDIRECT,
        "scope": "openid fullname inn fines debts", "state": state, "nonce": "n-browser",
        "code_challenge": challenge, "code_challenge_method": "S256", "gosim_session": session,
    })


def test_a_citizen_links_the_bank_through_the_real_pages(live_server, page):
    session = f"pw-{uuid.uuid4().hex[:10]}"
    verifier, challenge = pkce_pair()
    caught = callback_catcher(page)
    expect = sync_api.expect

    page.goto(authorize_url(live_server.url, session, challenge, "st-browser"))
    expect(page.get_by_role("heading", name="Вход")).to_be_visible()
    shot(page, "1-login")
    page.get_by_label("Телефон, почта или СНИЛС").fill("+7 916 000-00-01")
    page.get_by_label("Пароль").fill("wrong password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Неверный логин или пароль")
    shot(page, "2-login-wrong-password")
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()

    expect(page.get_by_role("heading", name="Введите код из СМС")).to_be_visible()
    shot(page, "3-sms")
    page.get_by_label("Код из СМС").fill(sms_code(live_server.url, session, "+79160000001"))
    page.get_by_role("button", name="Подтвердить").click()

    expect(page.get_by_role("heading", name="Предоставление прав доступа")).to_be_visible()
    expect(page.get_by_label("Вход через Госуслуги (ваш идентификатор)")).to_be_disabled()
    page.get_by_label("Налоговые задолженности и задолженности по исполнительным производствам").uncheck()
    shot(page, "4-consent")
    page.get_by_role("button", name="Разрешить").click()
    expect(page.get_by_role("heading", name="Банк получил ответ")).to_be_visible()

    answer = query_of(caught["url"])
    assert caught["url"].startswith(BANK_REDIRECT) and answer["state"] == "st-browser"
    with live_server.client() as bank:
        tokens = exchange(bank, answer["code"], verifier=verifier)
        assert tokens.status_code == 200, tokens.text
        assert tokens.json()["scope"] == "fines fullname inn openid"  # debts was unticked
        me = bank.get("/api/v1/persons/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}",
                                                     "X-Gosim-Session": session})
        assert me.json()["inn"] == "770858813912"


def test_a_simplified_account_sees_the_refusal_and_goes_back_with_esia_007055(live_server, page):
    session = f"pw-{uuid.uuid4().hex[:10]}"
    _, challenge = pkce_pair()
    caught = callback_catcher(page)
    expect = sync_api.expect

    page.goto(authorize_url(live_server.url, session, challenge, "st-refused"))
    page.get_by_label("Телефон, почта или СНИЛС").fill("+79160000004")
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.get_by_label("Код из СМС").fill(sms_code(live_server.url, session, "+79160000004"))
    page.get_by_role("button", name="Подтвердить").click()

    expect(page.get_by_role("heading", name="Учётная запись не подтверждена")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("упрощённая")
    shot(page, "5-refused-simplified")
    page.get_by_role("link", name="Вернуться в АО «Демо Банк»").click()
    expect(page.get_by_role("heading", name="Банк получил ответ")).to_be_visible()
    answer = query_of(caught["url"])
    assert answer["error"] == "access_denied" and answer["error_description"].startswith("ESIA-007055: ")
    assert answer["state"] == "st-refused"


def test_a_wrong_redirect_uri_shows_an_error_page_and_goes_nowhere(live_server, page):
    caught = callback_catcher(page)
    page.goto(f"{live_server.url}/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": "demo-bank", "redirect_uri": "http://127.0.0.1:8081/evil",
        "scope": "openid",
    }))
    sync_api.expect(page.get_by_role("alert")).to_contain_text("ESIA-007023")
    shot(page, "6-error-redirect-uri")
    assert caught == {}
