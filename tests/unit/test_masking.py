"""Masking keeps no СНИЛС, passport, phone, token, SMS code, client secret or Authorization value."""

from __future__ import annotations

import json

from simulator.domain.masking import MASK, mask_body, mask_headers, mask_query, mask_text, mask_value

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMDAwMDAwMDAxIn0.c2lnbmF0dXJlLWJ5dGVz"


def test_personal_data_in_free_text_is_masked():
    text = f"snils 112-233-445 95, bare 11223344595, phone +7 (916) 000-00-01, 8 916 000 00 01, " \
           f"passport 4510 123456, mail ivanov@example.ru, token {JWT}"
    masked = mask_text(text)
    for secret in ("112-233-445 95", "11223344595", "000-00-01", "000 00 01", "123456", "ivanov@", JWT[:20]):
        assert secret not in masked


def test_identifiers_that_are_not_personal_survive():
    text = "uin 18810186987973091146 oid 1000000001 amount 25000 key 3f2a1c9e-8b7d-4e6f-a5c4-1b2d3e4f5a6b"
    assert mask_text(text) == text


def test_sensitive_keys_hide_their_values_in_json_whatever_they_look_like():
    doc = {"code": "739164", "client_secret": "demo-bank-secret", "payer": {"snils": "11223344595", "inn": 1},
           "passport": {"series": "4510", "number": "123456"}, "refresh_token": "abc", "amount": 25000,
           "phone": 79160000001}
    masked = mask_value(doc)
    assert masked["amount"] == 25000
    dumped = json.dumps(masked)
    for secret in ("739164", "demo-bank-secret", "11223344595", "123456", "abc", "79160000001"):
        assert secret not in dumped


def test_forms_queries_and_headers_are_masked_by_key():
    form = mask_body(b"grant_type=authorization_code&code=739164&client_secret=s3cr3t&code_verifier=v",
                     "application/x-www-form-urlencoded")
    assert form == {"grant_type": "authorization_code", "code": MASK, "client_secret": MASK, "code_verifier": MASK}
    assert mask_query(f"access_token={JWT}&state=xyz") == "access_token=***&state=xyz"
    headers = mask_headers([("Authorization", f"Bearer {JWT}"), ("Cookie", "sid=1"), ("Accept", "*/*")])
    assert headers == {"authorization": "Bearer ***", "cookie": MASK, "accept": "*/*"}
    basic = mask_headers([("Authorization", "Basic ZGVtby1iYW5rOmRlbW8tYmFuay1zZWNyZXQ=")])
    assert basic == {"authorization": "Basic ***"}


def test_malformed_json_and_plain_text_forms_are_still_masked_by_key():
    assert "739164" not in mask_body(b'{"code": "739164", ', "application/json")
    assert mask_body(b"code=739164&state=x", "text/plain") == {"code": MASK, "state": "x"}


def test_a_body_cut_at_the_capture_limit_is_not_kept():
    assert mask_body(b"code=7391", "application/x-www-form-urlencoded", complete=False).startswith("<")
