"""Masking personal data and secrets (СНИЛС, passport, phone, tokens, SMS codes, client secrets) before anything is kept."""

from __future__ import annotations

import functools
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["MASK", "is_sensitive_key", "mask_authorization", "mask_body", "mask_headers", "mask_path", "mask_query",
           "mask_text", "mask_value"]

MASK = "***"

# A key naming one of these (in JSON, forms, queries, headers) hides its whole value, whatever it looks like.
_KEY_PARTS = (
    "password", "passwd", "secret", "token", "authorization", "cookie", "credential", "signature", "snils",
    "passport", "id_doc", "phone", "sms", "otp", "verifier", "email", "api_key", "apikey", "birth",
)
_KEYS = frozenset({
    "code", "login", "pin", "cvv", "cvc", "assertion", "last_name", "first_name", "middle_name", "full_name", "fio",
    "inn", "series", "x-api-key",
})

# Values that are secrets or personal data wherever they appear, even under an innocent key or in a path.
_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),  # JWT (access and ID tokens)
    re.compile(r"(?<![\w])\d{3}-\d{3}-\d{3}[ -]\d{2}(?!\d)"),  # СНИЛС as written: 112-233-445 95
    re.compile(r"\+7[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)"),  # phone +7 916 000-00-01
    re.compile(r"(?<![\d+])8[\s(-]+\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)"),  # phone 8 (916) 000-00-01
    re.compile(r"(?<!\d)\d{2}\s?\d{2}\s\d{6}(?!\d)"),  # passport series and number: 45 10 123456, 4510 123456
    re.compile(r"(?<!\d)\d{11}(?!\d)"),  # a bare СНИЛС or phone: 11 digits (УИН is 20 or 25, oid 10)
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail (a login, echoed back by a login page)
    re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{40,}"),  # opaque tokens
)

_FORM_LIKE = re.compile(r"[^=&\s]+=[^&]*(?:&[^=&\s]+=[^&]*)*")
_JSON_PAIR = re.compile(r'("([^"\\]{1,64})"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)')


def is_sensitive_key(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    k = key.strip().lower()
    return k in _KEYS or any(part in k for part in _KEY_PARTS)


# Every pattern above needs a digit, an "@" or a JWT's "eyJ": text with none of them is returned without eight scans.
_MAYBE_SENSITIVE = re.compile(r"[0-9@]|eyJ")


def mask_text(text: str) -> str:
    if not _MAYBE_SENSITIVE.search(text):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


@functools.lru_cache(maxsize=2048)
def mask_path(path: str) -> str:
    """mask_text of a request path, cached: a bank calls the same few paths over and over."""
    return mask_text(path)


def mask_value(value: Any, key: Any = None) -> Any:
    """A JSON value with every sensitive key's value replaced and every sensitive-looking string masked."""
    if key is not None and is_sensitive_key(key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, dict):
        return {k: mask_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) == 11:
        return MASK  # an 11-digit number is a СНИЛС or a phone more often than anything else
    return value


def mask_authorization(value: str) -> str:
    scheme, _, rest = value.strip().partition(" ")
    return f"{scheme} {MASK}" if rest and scheme.isalpha() and len(scheme) < 20 else MASK


@functools.lru_cache(maxsize=4096)
def _mask_header(lower: str, value: str) -> str:
    """Pure and called with the same pairs over and over (a bank sends the same headers with every call): cached."""
    if lower in ("authorization", "proxy-authorization"):
        return mask_authorization(value)
    if is_sensitive_key(lower):
        return MASK
    return mask_text(value)


def mask_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        masked = _mask_header(lower, value)
        out[lower] = f"{out[lower]}, {masked}" if lower in out else masked
    return out


def mask_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return mask_text(query)
    return urlencode([(k, MASK if is_sensitive_key(k) and v else mask_text(v)) for k, v in pairs], safe="*")


def mask_body(raw: bytes, content_type: str, *, limit: int = 4096, complete: bool = True) -> Any:
    """What of a body may be kept: masked JSON, a masked form as a dict, masked text, or just its size.

    A body that was cut short is not kept at all: the cut may split a secret so that no rule recognises it.
    """
    if not raw:
        return None
    if not complete:
        return f"<{len(raw)}+ bytes, not kept>"
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(raw)} bytes>"
    if kind.endswith("json"):
        try:
            masked = mask_value(json.loads(text))
            # A lone surrogate escape (\ud800) parses but cannot be stored as UTF-8; keep such a body as text.
            json.dumps(masked, ensure_ascii=False).encode("utf-8")
            return masked
        except ValueError:  # UnicodeEncodeError included
            pass
    if kind == "application/x-www-form-urlencoded":
        return {k: (MASK if is_sensitive_key(k) and v else mask_text(v)) for k, v in parse_qsl(text, keep_blank_values=True)}
    if len(text) > limit:
        return f"<{len(raw)} bytes, not kept>"
    if _FORM_LIKE.fullmatch(text.strip()):
        return {k: (MASK if is_sensitive_key(k) and v else mask_text(v)) for k, v in parse_qsl(text.strip(), keep_blank_values=True)}
    # Malformed JSON is kept as text, so its "key": value pairs are masked by key as well.
    return mask_text(_JSON_PAIR.sub(_mask_pair, text))


def _mask_pair(m: re.Match[str]) -> str:
    return f"{m.group(1)}{json.dumps(MASK)}" if is_sensitive_key(m.group(2)) else m.group(0)
