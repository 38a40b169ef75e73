"""Moving a session's clock: the discount window closes and tokens expire, in that session only."""

from __future__ import annotations

from conftest import bearer

FINE = "18810186987973091146"  # 1000000001, 500 ₽ with the 50% discount still open


def s(session: str) -> dict[str, str]:
    return {"X-Gosim-Session": session}


def amount_due(client, mint, session):
    token = mint(["fines"], session=session)
    r = client.get(f"/api/v1/fines/{FINE}", headers=bearer(token, **s(session)))
    assert r.status_code == 200, r.text
    return r.json()["amount_due"]


def test_21_days_close_the_discount_window_and_the_full_amount_is_due_again(client, mint, session_id):
    assert amount_due(client, mint, session_id) == 25000
    r = client.post("/_sim/clock/advance", json={"duration": "P21D"}, headers=s(session_id))
    assert r.status_code == 200
    assert amount_due(client, mint, session_id) == 50000


def test_21_days_expire_a_token_issued_before(client, mint, session_id):
    token = mint(["fines"], session=session_id)
    client.post("/_sim/clock/advance", json={"duration": "P21D"}, headers=s(session_id))
    r = client.get("/api/v1/fines", headers=bearer(token, **s(session_id)))
    assert r.status_code == 401
    assert r.json()["code"] == "TOKEN_EXPIRED"
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_a_clock_jump_in_one_session_leaves_another_alone(client, mint, session_id):
    other = session_id + "-b"
    token = mint(["fines"], session=other)
    client.post("/_sim/clock/advance", json={"duration": "P21D"}, headers=s(session_id))
    assert amount_due(client, mint, other) == 25000
    assert client.get("/api/v1/fines", headers=bearer(token, **s(other))).status_code == 200
