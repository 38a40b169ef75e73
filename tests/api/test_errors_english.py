"""Problem title/detail in Russian by default and in English when Accept-Language prefers it; codes never change."""

from __future__ import annotations

import pytest

from conftest import bearer
from simulator.errors import OAuthError, all_error_classes
from simulator.errors_en import EN
from simulator.http.language import preferred


def test_every_error_code_has_an_english_title_and_detail_in_plain_ascii():
    codes = {cls.code for cls in all_error_classes()}
    assert codes - set(EN) == set(), "add English texts to simulator/errors_en.py"
    assert set(EN) - codes == set(), "simulator/errors_en.py names a code no error class has"
    for code, texts in EN.items():
        assert texts.title and texts.detail and (texts.title + texts.detail).isascii(), code


@pytest.mark.parametrize("header, lang", [
    (None, "ru"), ("", "ru"), ("en", "en"), ("EN-gb", "en"), ("en-US,en;q=0.9,ru;q=0.8", "en"),
    ("ru, en", "ru"), ("en, ru", "en"), ("ru;q=0.5, en;q=0.6", "en"), ("ru;q=0.9, en;q=0.8", "ru"),
    ("en;q=0", "ru"), ("ru;q=0, en;q=0.1", "en"), ("de, fr;q=0.9", "ru"), ("de, en;q=0.1", "en"), ("*", "ru"),
    ("en;q=abc", "ru"), ("en;q=2", "ru"), (";;,,", "ru"), ("x" * 2000 + ",en", "ru"),
])
def test_accept_language_is_read_with_its_q_values(header, lang):
    assert preferred(header) == lang


def test_an_english_caller_gets_english_title_and_detail_and_the_same_code(client):
    ru = client.get("/api/v1/fines/123")
    en = client.get("/api/v1/fines/123", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert ru.status_code == en.status_code == 401
    assert ru.json()["code"] == en.json()["code"] == "UNAUTHORIZED"
    assert ru.json()["title"] == "Требуется авторизация" and ru.headers["content-language"] == "ru"
    assert en.json()["title"] == EN["UNAUTHORIZED"].title and en.headers["content-language"] == "en"
    assert en.headers["content-type"].startswith("application/problem+json")


def test_a_raise_sites_own_russian_detail_becomes_the_codes_generic_english_detail(client, mint):
    token = mint(["fines"])
    r = client.get("/api/v1/fines/18810100000000000007", headers={**bearer(token), "Accept-Language": "en"})
    assert r.status_code == 404
    body = r.json()
    assert body["detail"] == EN[body["code"]].detail and body["detail"].isascii()


def test_field_errors_and_extra_members_stay_as_they_are_in_english(client, mint):
    token = mint(["payments"])
    r = client.post("/api/v1/payments", json={"uin": "1"}, headers={**bearer(token), "Accept-Language": "en",
                                                                      "Idempotency-Key": "k-1"})
    assert r.status_code == 422
    body = r.json()
    assert body["title"] == EN["VALIDATION_FAILED"].title and body["errors"]


def test_oauth_errors_keep_their_rfc_6749_ascii_body_in_either_language(client):
    for lang in ("ru", "en"):
        r = client.post("/oauth2/token", data={"grant_type": "password"}, headers={"Accept-Language": lang})
        assert r.status_code in (400, 401)
        body = r.json()
        assert set(body) <= {"error", "error_description", "state"} and r.text.isascii()
        assert "content-language" not in r.headers


def test_oauth_error_classes_have_no_problem_body_to_translate():
    for cls in all_error_classes():
        if issubclass(cls, OAuthError):
            assert "title" not in cls().body()
