"""OAuth 2.0 / OIDC rules without I/O: scopes and their names, PKCE S256, redirect URLs, phones, the login flow table."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import urlencode

__all__ = [
    "FLOW",
    "IllegalStep",
    "SCOPE_LABELS",
    "advance",
    "at_hash",
    "mask_phone",
    "normalize_phone",
    "parse_scope",
    "pkce_challenge",
    "pkce_matches",
    "valid_pkce_value",
    "with_query",
]

# What the consent page says for each scope (the portal asks "Разрешить доступ к: ..."), in request order.
SCOPE_LABELS: dict[str, str] = {
    "openid": "Вход через Госуслуги (ваш идентификатор)",
    "fullname": "Фамилия, имя и отчество",
    "birthdate": "Дата и место рождения",
    "gender": "Пол",
    "snils": "СНИЛС",
    "inn": "ИНН",
    "id_doc": "Паспорт гражданина РФ",
    "drivers_licence_doc": "Водительское удостоверение",
    "vehicles": "Транспортные средства",
    "contacts": "Телефон и электронная почта",
    "fines": "Штрафы ГИБДД",
    "debts": "Налоговые задолженности и задолженности по исполнительным производствам",
    "payments": "Оплата начислений от вашего имени",
}
# Scopes that only make sense for a person: a client_credentials token has nobody to release them about.
PERSON_SCOPES = frozenset(SCOPE_LABELS) - {"payments"}
# openid cannot be refused on the consent page: without it there is no login at all.
REQUIRED_SCOPES = frozenset({"openid"})

_SCOPE_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_PKCE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def parse_scope(raw: str | None) -> list[str] | None:
    """Space-separated scope names in request order without repeats; None when any name is malformed."""
    names: list[str] = []
    for name in (raw or "").split():
        if not _SCOPE_TOKEN.match(name):
            return None
        if name not in names:
            names.append(name)
    return names


def valid_pkce_value(value: str | None) -> bool:
    """RFC 7636: a code_verifier (and an S256 challenge) is 43-128 unreserved characters."""
    return bool(value) and bool(_PKCE.match(value or ""))


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_matches(verifier: str, challenge: str) -> bool:
    return hmac.compare_digest(pkce_challenge(verifier), challenge)


def at_hash(access_token: str) -> str:
    """OIDC at_hash for RS256: the left half of SHA-256 of the access token, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def with_query(url: str, params: dict[str, str | None]) -> str:
    """The redirect_uri with the answer's parameters added (keeping a query it already has); ASCII only."""
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{url}{'&' if '?' in url else '?'}{extra}" if extra else url


def normalize_phone(raw: str | None) -> str | None:
    """+7XXXXXXXXXX from what people type (8 916 ..., +7 (916) ..., 9160000001); None when it is not a Russian mobile.

    A "+" in a query string arrives as a space unless it was encoded, so a leading space is accepted too.
    """
    if raw is None or len(raw) > 40 or re.search(r"[^\d\s()+-]", raw):
        return None
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 10:
        digits = "7" + digits
    if len(digits) != 11 or digits[0] not in "78":
        return None
    return "+7" + digits[1:]


def mask_phone(phone: str) -> str:
    """+79160000001 -> +7 (916) ***-**-01, as the portal shows where it sent a code."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) != 11:
        return "***"
    return f"+7 ({digits[1:4]}) ***-**-{digits[-2:]}"


# -- the login flow: authorize -> login -> sms -> consent -> code ------------------------------------------------
class IllegalStep(Exception):
    """A form posted for a step the login is not at (a double submit, the back button, a forged form)."""

    def __init__(self, step: str, event: str) -> None:
        super().__init__(f"{event} is not possible at step {step}")
        self.step, self.event = step, event


FLOW: dict[tuple[str, str], str] = {
    ("login", "password_ok"): "sms",
    ("login", "cancel"): "done",
    ("sms", "resend"): "sms",
    ("sms", "code_wrong"): "sms",
    ("sms", "codes_exhausted"): "locked",
    ("sms", "code_ok"): "consent",
    ("sms", "code_ok_consented"): "done",  # every asked scope was granted before: no consent page
    ("sms", "code_ok_unconfirmed"): "refused",  # simplified / standard account: ESIA-007055
    ("sms", "cancel"): "done",
    ("consent", "allow"): "done",
    ("consent", "deny"): "done",
    ("consent", "cancel"): "done",
}
STEPS = frozenset({"login", "sms", "consent", "refused", "locked", "done"})


def advance(step: str, event: str) -> str:
    try:
        return FLOW[(step, event)]
    except KeyError:
        raise IllegalStep(step, event) from None
