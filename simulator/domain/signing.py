"""HMAC-SHA256 signatures: of bank requests (X-Gosim-Request-Signature) and of webhooks (X-Gosim-Signature); IP lists."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

__all__ = [
    "SignatureError",
    "check_request_signature",
    "ip_allowed",
    "request_signature",
    "request_string",
    "verify_webhook_signature",
    "webhook_signature",
]


class SignatureError(ValueError):
    """Why a signature was refused, in words a bank developer can act on."""


def request_string(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """What a bank signs: `METHOD\\npath?query\\ntimestamp\\n` followed by the exact body bytes."""
    return f"{method.upper()}\n{path}\n{timestamp}\n".encode() + body


def request_signature(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), request_string(method, path, timestamp, body), hashlib.sha256).hexdigest()


def check_request_signature(
    secret: str, method: str, path: str, timestamp: str | None, signature: str | None, body: bytes,
    now: float, max_skew: int,
) -> None:
    """Raises SignatureError unless `signature` (hex, optionally `v1=`-prefixed) signs this request within the skew."""
    if not timestamp or not signature:
        raise SignatureError("нужны заголовки X-Gosim-Timestamp и X-Gosim-Request-Signature")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("X-Gosim-Timestamp должен быть временем Unix в секундах")
    if abs(now - int(timestamp)) > max_skew:
        raise SignatureError(f"X-Gosim-Timestamp расходится с часами сервера больше чем на {max_skew} с")
    given = signature.strip()
    given = given[3:] if given.startswith("v1=") else given
    expected = request_signature(secret, method, path, timestamp, body)
    if not hmac.compare_digest(expected.encode(), given.lower().encode("ascii", "replace")):
        raise SignatureError("подпись не совпадает с HMAC-SHA256 от METHOD\\npath\\ntimestamp\\nbody")


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Gosim-Signature value: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_webhook_signature(secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """What a receiver does: parse `t=…,v1=…`, recompute, compare in constant time, refuse stale timestamps."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, given = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or abs(now - int(t)) > tolerance:
        return False
    expected = webhook_signature(secret, int(t), body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


def ip_allowed(address: str | None, allowlist: tuple[str, ...] | list[str]) -> bool:
    """True when `address` is inside one of the CIDR blocks; a missing or non-IP address is never allowed."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for block in allowlist:
        try:
            if ip in ipaddress.ip_network(block, strict=False):
                return True
        except ValueError:
            continue
    return False
