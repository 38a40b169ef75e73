"""Handlers of the `debts` tag: tax and enforcement debts (ListDebts, GetDebt)."""

from __future__ import annotations

from .charges import list_of, one_of


def list_debts(status: str | None = None, type: str | None = None, limit: int = 20, cursor: str | None = None) -> dict:  # noqa: A002 (the spec's name)
    return list_of("debt", status=status, type_=type, limit=limit, cursor=cursor)


def get_debt(uin: str) -> dict:
    return one_of("debt", uin)
