"""Consent and account level: refusing, granting part, remembering, the ESIA-007055 refusal, and revoking a consent."""

from __future__ import annotations

import pytest

from support.oauth import Login, advance, alert, exchange, form, me, parse, query_of, refresh


@pytest.fixture
def login(client, session_id) -> Login:
    return Login(client, session_id)


def test_the_consent_page_lists_each_scope_in_words_and_each_can_be_unticked(login):
    r = login.through_sms(scope="openid fullname inn fines")
    assert r.status_code == 200
    boxes = {b["value"]: b for b in form(r.text, "/consent").checkboxes}
    assert list(boxes) == ["openid", "fullname", "inn", "fines"]
    assert boxes["openid"]["disabled"]  # without openid there is no login at all
    assert all(b["checked"] and not b["disabled"] for name, b in boxes.items() if name != "openid")
    assert "Фамилия, имя и отчество" in r.text and "Штрафы ГИБДД" in r.text
    assert "АО «Демо Банк»" in r.text


def test_refusing_consent_sends_access_denied_with_esia_007004_and_the_state(login):
    login.through_sms(state="keep-me")
    r = login.consent("deny")
    assert r.status_code == 302
    answer = query_of(r.headers["location"])
    assert answer["error"] == "access_denied"
    assert answer["error_description"].startswith("ESIA-007004: ")
    assert answer["state"] == "keep-me"


def test_unticked_scopes_are_not_granted(client, login, session_id):
    login.through_sms(scope="openid fullname inn fines")
    login.consent(keep=["fines"])
    code = query_of(login.page.headers["location"])["code"]
    tokens = exchange(client, code).json()
    assert tokens["scope"] == "fines openid"
    assert "last_name" not in me(client, tokens["access_token"], session_id).json()


def test_a_granted_consent_is_listed_for_the_person(client, login, session_id):
    answer = login.authorize(scope="openid fullname fines")
    token = exchange(client, answer["code"]).json()["access_token"]
    r = client.get("/api/v1/consents", headers={"Authorization": f"Bearer {token}", "X-Gosim-Session": session_id})
    assert r.status_code == 200
    [consent] = r.json()["items"]
    assert consent["client_id"] == "demo-bank" and consent["client_name"] == "АО «Демо Банк»"
    assert [s["scope"] for s in consent["scopes"]] == ["openid", "fullname", "fines"]
    assert consent["scopes"][2]["name"] == "Штрафы ГИБДД"


def test_a_second_login_for_the_same_scopes_skips_the_consent_page(client, login, session_id):
    login.authorize()
    again = Login(client, session_id)
    r = again.through_sms()
    assert r.status_code == 302 and "code" in query_of(r.headers["location"])


def test_prompt_consent_shows_the_page_again(client, login, session_id):
    login.authorize()
    again = Login(client, session_id)
    assert again.through_sms(prompt="consent").status_code == 200


def test_asking_for_more_than_was_granted_shows_the_page_again(client, login, session_id):
    login.authorize(scope="openid fines")
    again = Login(client, session_id)
    assert again.through_sms(scope="openid fines debts").status_code == 200


@pytest.mark.parametrize("phone, level", [("+79160000004", "упрощённая"), ("+79160000006", "стандартная")])
def test_an_unconfirmed_account_gets_a_refusal_page_and_esia_007055(client, login, phone, level):
    r = login.through_sms(phone, state="s-7")
    assert r.status_code == 403
    assert alert(r.text) == "ACCOUNT_NOT_CONFIRMED"
    assert level in r.text and "ESIA-007055" in r.text
    [back] = [href for href in parse(r.text).links if "error=" in href]
    answer = query_of(back)
    assert answer["error"] == "access_denied"
    assert answer["error_description"].startswith("ESIA-007055: ")
    assert answer["state"] == "s-7"
    assert not parse(r.text).forms  # nothing to go on with: only the way back


def test_revoking_a_consent_cuts_the_clients_tokens_at_once(client, login, session_id):
    tokens = exchange(client, login.authorize()["code"]).json()
    assert me(client, tokens["access_token"], session_id).status_code == 200
    r = client.delete("/api/v1/consents/demo-bank",
                      headers={"Authorization": f"Bearer {tokens['access_token']}", "X-Gosim-Session": session_id})
    assert r.status_code == 204
    r = me(client, tokens["access_token"], session_id)
    assert r.status_code == 401 and r.json()["code"] == "TOKEN_REVOKED"
    r = refresh(client, tokens["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_a_code_not_yet_exchanged_dies_with_the_consent(client, login, session_id, mint):
    code = login.authorize()["code"]
    other = mint(["openid"], session=session_id)
    client.delete("/api/v1/consents/demo-bank", headers={"Authorization": f"Bearer {other}",
                                                         "X-Gosim-Session": session_id})
    r = exchange(client, code)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_linking_again_after_a_revocation_works_even_on_a_frozen_clock(client, login, session_id):
    client.post("/_sim/clock/freeze", headers={"X-Gosim-Session": session_id})
    first = exchange(client, login.authorize()["code"]).json()
    client.delete("/api/v1/consents/demo-bank", headers={"Authorization": f"Bearer {first['access_token']}",
                                                         "X-Gosim-Session": session_id})
    again = Login(client, session_id)
    second = exchange(client, again.authorize()["code"]).json()
    assert me(client, second["access_token"], session_id).status_code == 200
    assert refresh(client, second["refresh_token"]).status_code == 200
    assert me(client, first["access_token"], session_id).status_code == 401


def test_revoking_one_client_leaves_the_others(client, login, session_id, mint):
    tokens = exchange(client, login.authorize()["code"]).json()
    mobile = mint(["openid"], client_id="demo-mobile", session=session_id)
    r = client.delete("/api/v1/consents/demo-mobile",
                      headers={"Authorization": f"Bearer {mobile}", "X-Gosim-Session": session_id})
    assert r.status_code == 204
    assert me(client, tokens["access_token"], session_id).status_code == 200
    assert me(client, mobile, session_id).status_code == 401


def test_revoking_an_unknown_client_is_404(client, session_id, mint):
    token = mint(["openid"], session=session_id)
    r = client.delete("/api/v1/consents/no-such-bank",
                      headers={"Authorization": f"Bearer {token}", "X-Gosim-Session": session_id})
    assert r.status_code == 404 and r.json()["code"] == "CLIENT_NOT_FOUND"


def test_consents_need_a_persons_token_with_openid(client, session_id, mint):
    no_openid = mint(["fines"], session=session_id)
    r = client.get("/api/v1/consents", headers={"Authorization": f"Bearer {no_openid}", "X-Gosim-Session": session_id})
    assert r.status_code == 403 and r.json()["code"] == "INSUFFICIENT_SCOPE"
    bank_only = mint(["openid"], oid=None, session=session_id)
    r = client.get("/api/v1/consents", headers={"Authorization": f"Bearer {bank_only}", "X-Gosim-Session": session_id})
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    r = client.get("/api/v1/consents", headers={"X-Gosim-Session": session_id})
    assert r.status_code == 401


def test_an_unused_login_left_on_the_consent_page_expires(client, login, session_id):
    login.through_sms()
    advance(client, session_id, "PT31M")
    r = login.consent()
    assert r.status_code == 400 and alert(r.text) == "LOGIN_EXPIRED"
