"""Shared plumbing of the fines and debts handlers: who is asking, and checking the УИН before looking it up."""

from __future__ import annotations

from ..domain.identifiers import is_valid_uin
from ..errors import Forbidden, InvalidUin, field_error
from ..http.context import services, session, token


def person_oid() -> int:
    info = token()
    if info.oid is None:
        raise Forbidden("Токен выпущен для системы, а не для гражданина: начисления недоступны.")
    return info.oid


def checked_uin(uin: str) -> str:
    if not is_valid_uin(uin):
        raise InvalidUin(errors=[field_error("uin", "check digit does not match")])
    return uin


def list_of(kind: str, **filters) -> dict:
    return services().citizens.list_charges(session(), person_oid(), kind, **filters)


def one_of(kind: str, uin: str) -> dict:
    return services().citizens.get_charge(session(), person_oid(), checked_uin(uin), kind)
