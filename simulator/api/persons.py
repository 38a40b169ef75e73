"""Handlers of the `persons` tag: the signed-in citizen's profile."""

from __future__ import annotations

from ..errors import Forbidden
from ..http.context import services, token


def get_my_profile() -> dict:
    info = token()
    if info.oid is None:
        raise Forbidden("Токен выпущен для системы, а не для гражданина: профиль недоступен.")
    return services().citizens.profile(info.oid, info.scopes)
