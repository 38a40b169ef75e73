"""memory:// adapter: one process, one lock; for tests and single-worker runs."""

from __future__ import annotations

import copy
import json
import threading
from bisect import bisect_right, insort
from typing import Callable, TypeVar

from . import register
from .base import Doc, Store, Tx

T = TypeVar("T")


class _MemoryTx(Tx):
    def __init__(self, store: "MemoryStore") -> None:
        self._store = store
        self.writes: dict[tuple[str, str], Doc | None] = {}

    def get(self, ns: str, key: str) -> Doc | None:
        if (ns, key) in self.writes:
            value = self.writes[(ns, key)]
            return copy.deepcopy(value) if value is not None else None
        return self._store._read(ns, key)

    def put(self, ns: str, key: str, value: Doc) -> None:
        # Round-trip through JSON so memory behaves exactly like the durable adapters (no shared references).
        self.writes[(ns, key)] = json.loads(json.dumps(value))

    def delete(self, ns: str, key: str) -> None:
        self.writes[(ns, key)] = None


class MemoryStore(Store):
    def __init__(self) -> None:
        self._data: dict[str, dict[str, Doc]] = {}
        self._keys: dict[str, list[str]] = {}
        self._lock = threading.RLock()

    def _read(self, ns: str, key: str) -> Doc | None:
        value = self._data.get(ns, {}).get(key)
        return copy.deepcopy(value) if value is not None else None

    def atomic(self, fn: Callable[[Tx], T]) -> T:
        with self._lock:
            tx = _MemoryTx(self)
            result = fn(tx)
            for (ns, key), value in tx.writes.items():
                bucket = self._data.setdefault(ns, {})
                keys = self._keys.setdefault(ns, [])
                if value is None:
                    if bucket.pop(key, None) is not None:
                        keys.remove(key)
                else:
                    if key not in bucket:
                        insort(keys, key)
                    bucket[key] = value
            return result

    def get(self, ns: str, key: str) -> Doc | None:
        with self._lock:
            return self._read(ns, key)

    def items(self, ns: str, *, after: str | None = None, limit: int | None = None) -> list[tuple[str, Doc]]:
        with self._lock:
            keys = self._keys.get(ns, [])
            start = bisect_right(keys, after) if after is not None else 0
            chosen = keys[start : start + limit] if limit is not None else keys[start:]
            return [(k, copy.deepcopy(self._data[ns][k])) for k in chosen]

    def clear(self, ns_prefix: str = "") -> int:
        with self._lock:
            gone = 0
            for ns in [n for n in self._data if n.startswith(ns_prefix)]:
                gone += len(self._data.pop(ns))
                self._keys.pop(ns, None)
            return gone


@register("memory")
def _open(url: str) -> Store:
    return MemoryStore()
