"""Handlers of the `fines` tag: traffic fines (ListFines, GetFine)."""

from __future__ import annotations

from .charges import list_of, one_of


def list_fines(status: str | None = None, vehicle: str | None = None, limit: int = 20, cursor: str | None = None) -> dict:
    return list_of("fine", status=status, vehicle=vehicle, limit=limit, cursor=cursor)


def get_fine(uin: str) -> dict:
    return one_of("fine", uin)
