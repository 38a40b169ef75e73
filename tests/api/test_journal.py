"""The request journal, in-process: newest first, filtered, masked, bounded, and scoped to the caller's session."""

from __future__ import annotations

import json

import pytest

from conftest import bearer
from simulator.app import create_app


def s(session: str) -> dict[str, str]:
    return {"X-Gosim-Session": session}


def journal(http, caller, **params):
    r = http.get("/_sim/requests", params=params, headers=s(caller))
    assert r.status_code == 200, r.text
    return r.json()


def test_calls_are_recorded_newest_first_with_operation_client_and_status(client, mint, session_id):
    token = mint(["fines"], session=session_id)
    client.get("/api/v1/fines", headers=bearer(token, **s(session_id)))
    client.get("/api/v1/debts", headers=bearer(token, **s(session_id)))
    items = journal(client, session_id)["items"]
    assert [(i["operation"], i["status"]) for i in items] == [("ListDebts", 403), ("ListFines", 200)]
    assert items[0]["id"] > items[1]["id"]
    assert {i["client"] for i in items} == {"demo-bank"}
    assert all(i["session"] == session_id and i["method"] == "GET" for i in items)


def test_the_control_api_itself_is_not_journaled(client, session_id):
    client.get("/_sim/scenarios", headers=s(session_id))
    assert journal(client, session_id)["items"] == []


def test_the_journal_filters_by_operation_status_client_and_session(client, mint, session_id):
    other = session_id + "-b"
    token = mint(["fines"], session=session_id)
    client.get("/api/v1/fines", headers=bearer(token, **s(session_id)))
    client.get("/api/v1/fines/18810100000000000007", headers=bearer(token, **s(session_id)))
    client.get("/api/v1/fines", headers=s(other))
    assert [i["operation"] for i in journal(client, session_id, operation="GetFine")["items"]] == ["GetFine"]
    assert [i["status"] for i in journal(client, session_id, status="4xx")["items"]] == [404]
    assert [i["status"] for i in journal(client, session_id, status="200")["items"]] == [200]
    assert journal(client, session_id, client="demo-mobile")["items"] == []
    assert [i["status"] for i in journal(client, other)["items"]] == [401]
    assert [i["session"] for i in journal(client, session_id, session=other)["items"]] == [other]
    assert {i["session"] for i in journal(client, session_id, session="*")["items"]} >= {session_id, other}


def test_a_faulted_call_names_the_rule_that_fired(client, mint, session_id):
    client.put("/_sim/scenarios/down", json={"rules": [{"name": "r503", "status": 503}]}, headers=s(session_id))
    client.get("/api/v1/fines", headers=s(session_id))
    entry = journal(client, session_id)["items"][0]
    assert entry["status"] == 503 and entry["fault"] == "down/r503"
    assert entry["response"]["body"]["code"] == "SERVICE_UNAVAILABLE"


def test_secrets_and_personal_data_never_reach_the_journal(client, mint, session_id):
    token = mint(["fines", "snils"], session=session_id)
    snils = "112-233-445 95"
    client.get("/api/v1/persons/me", headers=bearer(token, **s(session_id)))
    client.get(f"/oauth2/userinfo?access_token={token}", headers=s(session_id))
    client.post("/oauth2/authorize/login", data={"login": snils, "password": "Passw0rd!"}, headers=s(session_id))
    client.post("/oauth2/authorize/login", data={"login": "+79160000001", "password": "Passw0rd!"}, headers=s(session_id))
    client.post("/oauth2/authorize/sms", data={"code": "739164"}, headers=s(session_id))
    client.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": "demo-bank",
                                       "client_secret": "demo-bank-secret"}, headers=s(session_id))
    client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                headers={"Authorization": "Basic ZGVtby1iYW5rOmRlbW8tYmFuay1zZWNyZXQ=", **s(session_id)})
    client.post("/api/v1/payments", headers=bearer(token, **s(session_id)), json={
        "uin": "18810186987973091146", "payer": {"snils": "11223344595", "passport": "4510 123456"}})
    dump = json.dumps(journal(client, session_id, limit=1000), ensure_ascii=False)
    assert journal(client, session_id)["matched"] == 8
    for secret in (token, token[-20:], snils, "11223344595", "+79160000001", "739164", "demo-bank-secret",
                   "ZGVtby1iYW5rOmRlbW8tYmFuay1zZWNyZXQ", "123456", "Passw0rd!"):
        assert secret not in dump, secret
    assert "eyJ" not in dump


def test_the_journal_stays_within_its_bound(settings):
    app = create_app(settings.replace(journal_size=5))
    with app.test_client() as c:
        for _ in range(12):
            c.get("/api/v1/fines")
        page = c.get("/_sim/requests", params={"session": "*", "limit": 100}).json()
        assert page["size"] == 5 and page["matched"] == 5 and len(page["items"]) == 5
        assert [i["id"] for i in page["items"]] == [12, 11, 10, 9, 8]


def test_a_session_reset_forgets_its_journal(client, session_id):
    client.get("/api/v1/fines", headers=s(session_id))
    client.post("/_sim/reset", headers=s(session_id))
    assert journal(client, session_id)["items"] == []


@pytest.mark.parametrize("size", [0])
def test_a_journal_of_size_zero_records_nothing(settings, size):
    app = create_app(settings.replace(journal_size=size))
    with app.test_client() as c:
        c.get("/api/v1/fines")
        assert c.get("/_sim/requests").json()["items"] == []
