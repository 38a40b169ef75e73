"""Which language a caller wants error texts in: Russian unless Accept-Language prefers English (RFC 9110 §12.5.4)."""

from __future__ import annotations

import functools

RU, EN = "ru", "en"
SUPPORTED = (RU, EN)
DEFAULT = RU
MAX_HEADER = 1024  # longer Accept-Language values are ignored rather than parsed


def _quality(params: list[str]) -> float | None:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0.0 <= q <= 1.0 else None
    return 1.0


@functools.lru_cache(maxsize=256)  # clients send the same few values over and over
def preferred(header: str | None) -> str:
    """`ru` or `en`: the supported language with the highest q; ties go to the one listed first, `*` means Russian.

    ``en-GB;q=0.8, ru;q=0.9`` -> ru; ``en, ru`` -> en; ``ru;q=0, en;q=0.1`` -> en; ``de, fr`` -> ru; malformed -> ru.
    """
    if not header or len(header) > MAX_HEADER:
        return DEFAULT
    best, best_q = DEFAULT, 0.0
    for item in header.split(","):
        tag, *params = item.split(";")
        tag = tag.strip().lower()
        q = _quality(params)
        if not tag or q is None or q <= 0.0:
            continue
        primary = tag.split("-", 1)[0]
        lang = DEFAULT if primary == "*" else primary
        if lang in SUPPORTED and q > best_q:
            best, best_q = lang, q
    return best
