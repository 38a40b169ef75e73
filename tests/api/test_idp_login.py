"""The login form: credentials by phone, e-mail or СНИЛС, locked accounts, CSRF, sessions, expiry and cancelling."""

from __future__ import annotations

import pytest

from support.oauth import BANK_REDIRECT, Login, advance, alert, form, query_of


@pytest.fixture
def login(client, session_id) -> Login:
    flow = Login(client, session_id)
    flow.start()
    return flow


@pytest.mark.parametrize("typed", [
    "+79160000001", "+7 (916) 000-00-01", "89160000001", "9160000001", "ivanov@example.ru", "IVANOV@example.ru",
    "668-315-472 27", "66831547227",
])
def test_a_person_logs_in_by_phone_email_or_snils(login, typed):
    r = login.login(typed)
    assert r.status_code == 200, r.text[:500]
    sms = form(r.text, "/oauth2/authorize/sms")
    assert "code" in sms.fields
    assert "+7 (916) ***-**-01" in r.text


def test_the_code_lands_in_the_sms_outbox_of_the_session(client, login, session_id):
    login.login()
    r = client.get("/_sim/sms", params={"phone": "+79160000001"}, headers={"X-Gosim-Session": session_id})
    message = r.json()["items"][0]
    assert len(message["code"]) == 6 and message["code"].isdigit()
    assert message["phone"] == "+79160000001" and message["client_id"] == "demo-bank"
    assert message["code"] in message["text"]
    other = client.get("/_sim/sms", params={"phone": "+79160000001"}, headers={"X-Gosim-Session": "other-run"})
    assert other.json()["items"] == []


def test_a_wrong_password_re_renders_the_login_with_invalid_credentials(login):
    r = login.login(password="wrong")
    assert r.status_code == 400
    assert alert(r.text) == "INVALID_CREDENTIALS"
    assert "Неверный логин или пароль" in r.text
    assert form(r.text, "/login").fields["login"] == "+79160000001"  # what was typed stays


def test_an_unknown_login_is_the_same_invalid_credentials(login):
    r = login.login("+79990000000")
    assert r.status_code == 400 and alert(r.text) == "INVALID_CREDENTIALS"


def test_empty_fields_are_asked_for(login):
    r = login.login("", "")
    assert r.status_code == 400 and alert(r.text) == "CREDENTIALS_REQUIRED"


def test_a_locked_account_cannot_log_in(login):
    r = login.login("+79160000005")
    assert r.status_code == 403
    assert alert(r.text) == "ACCOUNT_LOCKED"


def test_a_form_without_the_csrf_cookie_is_refused(client, login, session_id):
    f = form(login.page.text, "/login")
    client.cookies.clear()
    r = client.post(f.action, data={**f.fields, "login": "+79160000001", "password": "Passw0rd!"},
                    follow_redirects=False)
    assert r.status_code == 403 and alert(r.text) == "CSRF_FAILED"


def test_a_form_with_a_forged_csrf_token_is_refused(client, login):
    f = form(login.page.text, "/login")
    r = client.post(f.action, data={**f.fields, "csrf_token": "forged", "login": "+79160000001",
                                    "password": "Passw0rd!"}, follow_redirects=False)
    assert r.status_code == 403 and alert(r.text) == "CSRF_FAILED"


@pytest.mark.parametrize("tx", ["", "0" * 32, "../../etc", "x" * 5000])
def test_an_unknown_login_transaction_is_an_error_page(client, login, tx):
    f = form(login.page.text, "/login")
    r = client.post(f.action, data={**f.fields, "tx": tx, "login": "+79160000001", "password": "Passw0rd!"},
                    follow_redirects=False)
    assert r.status_code == 400 and alert(r.text) == "LOGIN_NOT_FOUND"


def test_a_login_is_bound_to_its_session(client, login):
    f = form(login.page.text, "/login")
    r = client.post(f.action, data={**f.fields, "gosim_session": "another-run", "login": "+79160000001",
                                    "password": "Passw0rd!"}, follow_redirects=False)
    assert r.status_code == 400 and alert(r.text) == "LOGIN_NOT_FOUND"


def test_a_login_left_open_longer_than_login_ttl_expires(client, login, session_id):
    advance(client, session_id, "PT31M")
    r = login.login()
    assert r.status_code == 400 and alert(r.text) == "LOGIN_EXPIRED"


def test_posting_a_step_twice_is_wrong_step(client, login):
    page = login.page.text
    login.login()
    f = form(page, "/login")
    r = client.post(f.action, data={**f.fields, "login": "+79160000001", "password": "Passw0rd!"},
                    follow_redirects=False)
    assert r.status_code == 409 and alert(r.text) == "WRONG_STEP"
    assert form(r.text, "/sms")  # still on the SMS step


def test_cancel_sends_the_browser_back_with_access_denied_and_the_state(client, login):
    f = form(login.page.text, "/cancel")
    r = client.post(f.action, data=f.fields, follow_redirects=False)
    assert r.status_code == 302
    answer = query_of(r.headers["location"])
    assert r.headers["location"].startswith(BANK_REDIRECT)
    assert answer == {"error": "access_denied", "error_description": "ESIA-007004: the user cancelled the login",
                      "state": "st-1"}


def test_a_finished_login_cannot_be_replayed(client, login):
    f = form(login.page.text, "/cancel")
    client.post(f.action, data=f.fields, follow_redirects=False)
    r = client.post(f.action, data=f.fields, follow_redirects=False)
    assert r.status_code == 409 and alert(r.text) == "LOGIN_FINISHED"


@pytest.mark.parametrize("body", [
    b"", b"login=%ff%fe&password=x", b"tx=&tx=&tx=", b"\x00\x01\x02", b"login=" + b"a" * 60000,
])
def test_garbage_forms_never_give_a_500(client, login, body):
    for step in ("login", "sms", "sms/resend", "consent", "cancel"):
        r = client.post(f"/oauth2/authorize/{step}", content=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)
        assert r.status_code < 500, (step, r.status_code, r.text[:300])


def test_a_json_body_is_not_a_form_and_never_a_500(client):
    r = client.post("/oauth2/authorize/login", json={"login": "x"}, follow_redirects=False)
    assert 400 <= r.status_code < 500
