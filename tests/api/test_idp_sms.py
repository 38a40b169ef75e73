"""The SMS step: wrong, expired and resent codes, the lock after three wrong codes, and the outbox."""

from __future__ import annotations

import pytest

from simulator.app import create_app
from support.oauth import Login, advance, alert, form, parse, query_of, wrong


@pytest.fixture
def login(client, session_id) -> Login:
    flow = Login(client, session_id)
    flow.start()
    flow.login()
    return flow


def test_the_right_code_opens_the_consent_page(login):
    r = login.code(login.sms_code())
    assert r.status_code == 200
    assert form(r.text, "/oauth2/authorize/consent")


def test_a_code_with_spaces_is_accepted(login):
    code = login.sms_code()
    assert login.code(f"{code[:3]} {code[3:]}").status_code == 200


def test_a_wrong_code_says_how_many_attempts_are_left(login):
    r = login.code(wrong(login.sms_code()))
    assert r.status_code == 400
    assert alert(r.text) == "SMS_CODE_INVALID"
    assert "Осталось попыток: 2" in r.text


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６"])
def test_a_code_that_is_not_six_digits_is_a_format_error_and_costs_no_attempt(login, typed):
    r = login.code(typed)
    assert r.status_code == 400 and alert(r.text) == "SMS_CODE_FORMAT"
    assert login.code(login.sms_code()).status_code == 200


def test_three_wrong_codes_lock_the_login(client, login, session_id):
    code = login.sms_code()
    login.code(wrong(code))
    sms_page = login.code(wrong(code)).text
    r = login.code(wrong(code))
    assert r.status_code == 403
    assert alert(r.text) == "LOGIN_LOCKED"
    assert "Повторить вход можно после" in r.text
    back = [href for href in parse(r.text).links if "error=" in href]
    answer = query_of(back[0])
    assert answer["error"] == "access_denied" and answer["state"] == "st-1"
    # the right code no longer helps on this login
    f = form(sms_page, "/sms")
    r = client.post(f.action, data={**f.fields, "code": code}, follow_redirects=False)
    assert r.status_code == 409 and alert(r.text) == "WRONG_STEP"


def test_a_locked_login_cannot_log_in_again_until_the_lock_passes(client, login, session_id):
    code = login.sms_code()
    for _ in range(3):
        login.code(wrong(code))
    again = Login(client, session_id)
    again.start()
    r = again.login()
    assert r.status_code == 403 and alert(r.text) == "LOGIN_LOCKED"
    advance(client, session_id, "PT15M1S")
    again.start()
    assert again.login().status_code == 200


def test_the_lock_counts_wrong_codes_across_logins_of_the_same_person(client, login, session_id):
    login.code(wrong(login.sms_code()))
    login.code(wrong(login.sms_code()))
    again = Login(client, session_id)
    again.start()
    again.login()
    r = again.code(wrong(again.sms_code()))
    assert r.status_code == 403 and alert(r.text) == "LOGIN_LOCKED"


def test_a_right_code_resets_the_count(client, login, session_id):
    login.code(wrong(login.sms_code()))
    login.code(wrong(login.sms_code()))
    login.code(login.sms_code())
    again = Login(client, session_id)
    again.start()
    again.login()
    r = again.code(wrong(again.sms_code()))
    assert "Осталось попыток: 2" in r.text


def test_the_lock_is_per_session(client, login, session_id):
    for _ in range(3):
        login.code(wrong(login.sms_code()))
    other = Login(client, session_id + "-b")
    other.start()
    assert other.login().status_code == 200


def test_an_expired_code_is_refused(client, login, session_id):
    code = login.sms_code()
    advance(client, session_id, "PT5M1S")
    r = login.code(code)
    assert r.status_code == 400 and alert(r.text) == "SMS_CODE_EXPIRED"


def test_resend_before_the_cooldown_is_429_with_retry_after(login):
    r = login.resend()
    assert r.status_code == 429
    assert alert(r.text) == "SMS_RESEND_TOO_EARLY"
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_resend_after_the_cooldown_sends_a_new_code_and_the_old_one_stops_working(client, login, session_id):
    old = login.sms_code()
    advance(client, session_id, "PT61S")
    r = login.resend()
    assert r.status_code == 200 and "Новый код отправлен" in r.text
    new = login.sms_code()
    r = client.get("/_sim/sms", params={"phone": "+79160000001"}, headers={"X-Gosim-Session": session_id})
    assert [m["code"] for m in r.json()["items"][:2]] == [new, old]
    if new != old:
        assert login.code(old).status_code == 400
    assert login.code(new).status_code == 200


def test_lifetimes_come_from_settings(settings, session_id):
    app = create_app(settings.replace(sms_code_ttl=30, sms_resend_cooldown=5, sms_max_attempts=1, login_lock_seconds=60))
    with app.test_client() as client:
        flow = Login(client, session_id)
        flow.start()
        flow.login()
        advance(client, session_id, "PT6S")
        assert flow.resend().status_code == 200
        r = flow.code(wrong(flow.sms_code()))
        assert r.status_code == 403 and alert(r.text) == "LOGIN_LOCKED"
        advance(client, session_id, "PT61S")
        flow.start()
        flow.login()
        advance(client, session_id, "PT31S")
        assert alert(flow.code(flow.sms_code()).text) == "SMS_CODE_EXPIRED"


@pytest.mark.parametrize("phone", ["+79160000001", " 79160000001", "79160000001", "89160000001", "9160000001"])
def test_the_outbox_accepts_the_phone_as_people_write_it(client, login, session_id, phone):
    r = client.get("/_sim/sms", params={"phone": phone}, headers={"X-Gosim-Session": session_id})
    assert r.status_code == 200 and len(r.json()["items"]) == 1


@pytest.mark.parametrize("phone", ["abc", "+1234", "+4915112345678", "7" * 40, "+7 916 000-00-01"])
def test_the_outbox_refuses_what_is_not_a_russian_mobile(client, phone):
    r = client.get("/_sim/sms", params={"phone": phone})
    assert r.status_code == 400
    assert r.json()["code"] == "INVALID_PARAMETER"


def test_the_outbox_without_a_phone_lists_the_session_newest_first(client, login, session_id):
    r = client.get("/_sim/sms", headers={"X-Gosim-Session": session_id})
    assert [m["phone"] for m in r.json()["items"]] == ["+79160000001"]
