"""The citizen API: profile fields by scope, fines and debts with amounts due, requisites and QR, pagination."""

from __future__ import annotations

from conftest import bearer

from simulator.domain.identifiers import is_valid_inn, is_valid_snils, is_valid_uin
from simulator.domain.requisites import parse_qr

IVANOV = 1000000001
PETROVA = 1000000002
SIDOROV = 1000000003
MOROZOV = 1000000007
CAMERA_FINE = "18810186987973091146"  # resolved 5 days before the anchor, 12.9 ч.2, 500 ₽
PLAIN_FINE = "18810017075364556818"  # resolved 35 days before, 12.16 ч.1
DRUNK_FINE = "18810128084585003703"  # 12.8 ч.1, never discounted


def advance(client, duration: str, session: str | None = None) -> None:
    headers = {"X-Gosim-Session": session} if session else {}
    r = client.post("/_sim/clock/advance", json={"duration": duration}, headers=headers)
    assert r.status_code == 200, r.text


def test_a_token_with_fullname_and_inn_sees_those_fields_and_no_others(client, mint):
    r = client.get("/api/v1/persons/me", headers=bearer(mint("openid fullname inn")))
    assert r.status_code == 200
    body = r.json()
    assert body == {
        "oid": IVANOV, "level": "confirmed", "trusted": True,
        "last_name": "Иванов", "first_name": "Иван", "middle_name": "Петрович", "inn": "770858813912",
    }


def test_each_scope_releases_its_own_field_group(client, mint):
    body = client.get("/api/v1/persons/me", headers=bearer(mint("openid snils id_doc contacts"))).json()
    assert is_valid_snils(body["snils"])
    assert set(body["passport"]) == {"series", "number", "issue_date", "issued_by", "issue_id"}
    assert body["phone"] == "+79160000001"
    assert "last_name" not in body and "inn" not in body


def test_a_profile_without_openid_scope_is_forbidden(client, mint):
    r = client.get("/api/v1/persons/me", headers=bearer(mint("fullname")))
    assert r.status_code == 403
    assert r.json()["code"] == "INSUFFICIENT_SCOPE"
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]


def test_fines_without_the_fines_scope_are_forbidden(client, mint):
    r = client.get("/api/v1/fines", headers=bearer(mint("openid fullname")))
    assert r.status_code == 403
    assert r.json()["code"] == "INSUFFICIENT_SCOPE"
    assert r.json()["required_scopes"] == ["fines"]


def test_a_fine_resolved_days_ago_is_due_at_half_price_until_its_discount_ends(client, mint):
    fine = client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=bearer(mint("fines"))).json()
    assert fine["amount"] == 50000
    assert fine["amount_due"] == 25000
    assert fine["discount"]["active"] is True
    assert fine["discount"]["amount"] == 25000
    assert fine["status"] == "unpaid"
    # resolved on anchor-5d, the discount lasts 20 days from the resolution
    assert fine["discount"]["until"] > fine["resolution"]["date"]


def test_a_fine_resolved_thirty_days_ago_is_due_in_full(client, mint):
    fine = client.get(f"/api/v1/fines/{PLAIN_FINE}", headers=bearer(mint("fines"))).json()
    assert fine["discount"]["active"] is False
    assert fine["amount_due"] == fine["amount"] == 50000


def test_moving_the_clock_past_the_discount_window_doubles_the_amount_due(client, mint):
    before = client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=bearer(mint("fines"))).json()
    advance(client, "P16D")  # resolved 5 days ago + 16 = day 21: the window (20 days) has closed
    after = client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=bearer(mint("fines"))).json()
    assert (before["amount_due"], after["amount_due"]) == (25000, 50000)
    assert after["discount"]["active"] is False


def test_the_last_day_of_the_discount_window_still_gets_the_discount(client, mint):
    advance(client, "P15D")  # day 20 after the resolution
    token = mint("fines")
    fine = client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=bearer(token)).json()
    assert fine["amount_due"] == 25000


def test_an_excluded_article_never_gets_a_discount(client, mint):
    fine = client.get(f"/api/v1/fines/{DRUNK_FINE}", headers=bearer(mint("fines", oid=MOROZOV))).json()
    assert fine["article"].startswith("12.8")
    assert fine["discount"] is None
    assert fine["amount_due"] == fine["amount"] == 3000000


def test_an_overdue_fine_says_so_and_a_paid_one_is_due_nothing(client, mint):
    fines = client.get("/api/v1/fines", headers=bearer(mint("fines", oid=PETROVA))).json()["items"]
    by_status = {f["status"]: f for f in fines}
    assert set(by_status) == {"overdue", "paid"}
    assert by_status["overdue"]["amount_due"] == 100000
    assert by_status["paid"]["amount_due"] == 0
    assert by_status["paid"]["paid_amount"] == 25000


def test_a_fine_becomes_overdue_when_its_due_date_passes(client, mint):
    advance(client, "P80D")
    token = mint("fines")
    fine = client.get(f"/api/v1/fines/{PLAIN_FINE}", headers=bearer(token)).json()
    assert fine["status"] == "overdue"


def test_every_charge_carries_requisites_and_a_qr_payload_that_parses_back_to_them(client, mint):
    for oid, path in ((IVANOV, "fines"), (SIDOROV, "debts")):
        items = client.get(f"/api/v1/{path}", headers=bearer(mint(path, oid=oid))).json()["items"]
        assert items
        for charge in items:
            assert is_valid_uin(charge["uin"])
            req = charge["requisites"]
            assert is_valid_inn(req["payee_inn"])
            assert req["kbk"][:3] == charge["uin"][:3]
            if charge["amount_due"] == 0:
                continue
            qr = parse_qr(charge["qr"])
            assert qr["Name"] == req["payee_name"]
            assert qr["PersonalAcc"] == req["account"]
            assert qr["BIC"] == req["bik"]
            assert qr["CorrespAcc"] == req["corr_account"]
            assert qr["PayeeINN"] == req["payee_inn"]
            assert qr["CBC"] == req["kbk"]
            assert qr["OKTMO"] == req["oktmo"]
            assert qr["UIN"] == charge["uin"]
            assert int(qr["Sum"]) == charge["amount_due"]


def test_a_charge_with_nothing_due_offers_no_qr(client, mint):
    fines = client.get("/api/v1/fines?status=paid", headers=bearer(mint("fines", oid=PETROVA))).json()["items"]
    assert len(fines) == 1 and fines[0]["qr"] is None and fines[0]["amount_due"] == 0


def test_debts_list_tax_and_enforcement_debts_and_filter_by_type(client, mint):
    token = mint("debts", oid=SIDOROV)
    all_debts = client.get("/api/v1/debts", headers=bearer(token)).json()
    assert {d["type"] for d in all_debts["items"]} == {"tax", "fssp"}
    fssp = client.get("/api/v1/debts?type=fssp", headers=bearer(token)).json()["items"]
    assert [d["proceeding"]["number"] for d in fssp] == ["40770/17/77010-ИП"]
    assert fssp[0]["requisites"]["payee_name"].startswith("УФК по г. Москве")


def test_a_tax_debt_pays_to_the_single_tax_account(client, mint):
    tax = client.get("/api/v1/debts?type=tax", headers=bearer(mint("debts", oid=SIDOROV))).json()["items"][0]
    assert tax["requisites"]["kbk"] == "18201061201010000510"
    assert tax["requisites"]["payee_inn"] == "7727406020"


def test_lists_page_with_a_cursor_without_repeating_or_losing_items(client, mint):
    token = mint("fines")
    first = client.get("/api/v1/fines?limit=1", headers=bearer(token)).json()
    assert first["total"] == 2 and len(first["items"]) == 1 and first["next_cursor"]
    second = client.get(f"/api/v1/fines?limit=1&cursor={first['next_cursor']}", headers=bearer(token)).json()
    assert second["next_cursor"] is None
    assert {first["items"][0]["uin"], second["items"][0]["uin"]} == {CAMERA_FINE, PLAIN_FINE}


def test_fines_filter_by_status_and_vehicle(client, mint):
    token = mint("fines")
    assert client.get("/api/v1/fines?status=paid", headers=bearer(token)).json()["items"] == []
    by_plate = client.get("/api/v1/fines?vehicle=А123ВС777", headers=bearer(token)).json()
    assert by_plate["total"] == 2
    assert client.get("/api/v1/fines?vehicle=В999ВВ999", headers=bearer(token)).json()["total"] == 0


def test_someone_elses_fine_is_not_found(client, mint):
    r = client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=bearer(mint("fines", oid=PETROVA)))
    assert r.status_code == 404
    assert r.json()["code"] == "CHARGE_NOT_FOUND"


def test_a_debt_uin_asked_as_a_fine_is_not_found(client, mint):
    r = client.get("/api/v1/fines/18251884472940557619", headers=bearer(mint("fines", oid=SIDOROV)))
    assert r.status_code == 404


def test_a_client_token_without_a_person_cannot_read_a_profile(client, mint):
    r = client.get("/api/v1/persons/me", headers=bearer(mint("openid", oid=None)))
    assert r.status_code == 403
    assert r.json()["code"] == "FORBIDDEN"
