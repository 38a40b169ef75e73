"""Who is calling: the client id read, without verifying anything, from a bearer token or Basic credentials."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from urllib.parse import unquote

MAX_TOKEN = 8192


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@functools.lru_cache(maxsize=1024)  # pure, and every call of a bank carries the same header: decode it once
def client_from_authorization(value: str | None) -> str | None:
    """`client_id` (else a string `aud`) of a bearer JWT, or the user of Basic auth; None when there is neither.

    Only for matching scenario rules and labelling the journal: the signature is not checked here, the
    security layer does that, so a forged token can at most pick which fault it gets.
    """
    if not value or len(value) > MAX_TOKEN:
        return None
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    try:
        if scheme.lower() == "bearer":
            parts = credentials.split(".")
            if len(parts) != 3:
                return None
            claims = json.loads(_b64(parts[1]))
            if not isinstance(claims, dict):
                return None
            found = claims.get("client_id") or claims.get("aud")
            return found if isinstance(found, str) and found else None
        if scheme.lower() == "basic":
            user, sep, _ = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
            return (unquote(user) or None) if sep else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return None
