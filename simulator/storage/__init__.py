"""Storage adapters chosen by URL scheme (memory://, sqlite:///path, redis://host) behind one port."""

from __future__ import annotations

from typing import Callable
from urllib.parse import urlsplit

from .base import Store, Tx

_SCHEMES: dict[str, Callable[[str], Store]] = {}


def register(scheme: str) -> Callable[[Callable[[str], Store]], Callable[[str], Store]]:
    def wrap(factory: Callable[[str], Store]) -> Callable[[str], Store]:
        _SCHEMES[scheme] = factory
        return factory

    return wrap


def open_store(url: str) -> Store:
    """Open the adapter that the URL's scheme names; an unknown scheme fails loudly."""
    from . import memory, sqlite  # noqa: F401  (registers their schemes)

    scheme = urlsplit(url).scheme
    # Only when asked for (or to name it in the error below): the redis client costs ~40 ms of every start.
    if scheme not in _SCHEMES:
        try:
            from . import redis as _redis  # noqa: F401
        except ImportError:  # the redis client is optional
            pass
    if scheme not in _SCHEMES:
        raise ValueError(f"unknown storage URL {url!r}: expected one of {', '.join(sorted(s + '://' for s in _SCHEMES))}")
    return _SCHEMES[scheme](url)


__all__ = ["Store", "Tx", "open_store", "register"]
