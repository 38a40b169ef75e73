"""Storage adapters chosen by URL scheme (memory://, sqlite:///path, redis://host) behind one port."""

from __future__ import annotations

from contextvars import ContextVar

from typing import Callable
from urllib.parse import urlsplit

from .base import Store, Tx

_SCHEMES: dict[str, Callable[[str], Store]] = {}


def register(scheme: str) -> Callable[[Callable[[str], Store]], Callable[[str], Store]]:
    def wrap(factory: Callable[[str], Store]) -> Callable[[str], Store]:
        _SCHEMES[scheme] = factory
        return factory

    return wrap


# Set by the request context for the span of one call: stores that can serve repeated reads from a cache (SQLite)
# check once per distinct value that nothing changed. None outside calls: every read goes to the database.
READ_SNAPSHOT: ContextVar[object | None] = ContextVar("gosim_read_snapshot", default=None)


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


def journal_url(url: str) -> str | None:
    """Where the request journal of a store at `url` lives when not in the store itself (None: in the store).

    On SQLite the journal gets a file of its own: it is written on nearly every call, and sharing the state file would
    make every one of those writes invalidate every worker's read cache (see SqliteStore.get) and take its write lock.
    """
    if urlsplit(url).scheme == "sqlite":
        base, dot, ext = url.rpartition(".")
        return f"{base}.journal.{ext}" if dot and "/" not in ext else f"{url}.journal"
    return None


__all__ = ["READ_SNAPSHOT", "Store", "Tx", "journal_url", "open_store", "register"]
