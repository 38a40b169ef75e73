"""redis://host:port/db adapter: state shared by several gosim replicas, with optimistic (WATCH/MULTI) transactions."""

from __future__ import annotations

import json
import re
from typing import Callable, TypeVar

import redis as redis_lib
from redis.exceptions import WatchError

from . import register
from .base import Doc, Store, Tx

T = TypeVar("T")
PREFIX = "gosim:"


def _hash(ns: str) -> str:
    return PREFIX + ns


class _RedisTx(Tx):
    """Reads WATCH the namespace they touch; writes are buffered and sent in one MULTI/EXEC at the end."""

    def __init__(self, pipe: "redis_lib.client.Pipeline") -> None:
        self._pipe = pipe
        self._watched: set[str] = set()
        self.writes: dict[tuple[str, str], Doc | None] = {}

    def get(self, ns: str, key: str) -> Doc | None:
        if (ns, key) in self.writes:
            value = self.writes[(ns, key)]
            return json.loads(json.dumps(value)) if value is not None else None
        name = _hash(ns)
        if name not in self._watched:
            self._pipe.watch(name)
            self._watched.add(name)
        raw = self._pipe.hget(name, key)
        return json.loads(raw) if raw is not None else None

    def put(self, ns: str, key: str, value: Doc) -> None:
        self.writes[(ns, key)] = json.loads(json.dumps(value))

    def delete(self, ns: str, key: str) -> None:
        self.writes[(ns, key)] = None


class RedisStore(Store):
    def __init__(self, url: str) -> None:
        self.url = url
        self._r = redis_lib.Redis.from_url(url, decode_responses=True, health_check_interval=30)

    def atomic(self, fn: Callable[[Tx], T]) -> T:
        # Optimistic: if another replica changed a namespace this transaction read, EXEC fails and we run fn again,
        # so fn must be free of side effects outside the transaction (it is: services only read and write through tx).
        for _ in range(1000):
            with self._r.pipeline() as pipe:
                tx = _RedisTx(pipe)
                try:
                    result = fn(tx)
                    pipe.multi()
                    for (ns, key), value in tx.writes.items():
                        if value is None:
                            pipe.hdel(_hash(ns), key)
                        else:
                            pipe.hset(_hash(ns), key, json.dumps(value, ensure_ascii=False, separators=(",", ":")))
                    pipe.execute()
                    return result
                except WatchError:
                    continue
        raise RuntimeError("redis transaction kept conflicting; giving up after 1000 tries")

    def get(self, ns: str, key: str) -> Doc | None:
        raw = self._r.hget(_hash(ns), key)
        return json.loads(raw) if raw is not None else None

    def items(self, ns: str, *, after: str | None = None, limit: int | None = None) -> list[tuple[str, Doc]]:
        keys = sorted(k for k in self._r.hkeys(_hash(ns)) if after is None or k > after)
        if limit is not None:
            keys = keys[:limit]
        if not keys:
            return []
        values = self._r.hmget(_hash(ns), keys)
        return [(k, json.loads(v)) for k, v in zip(keys, values) if v is not None]

    def clear(self, ns_prefix: str = "") -> int:
        # Escape glob characters so a session id like "a*" cannot widen the match.
        pattern = PREFIX + re.sub(r"([\\*?\[\]])", r"\\\1", ns_prefix) + "*"
        gone = 0
        for name in self._r.scan_iter(match=pattern, count=500):
            gone += self._r.hlen(name)
            self._r.delete(name)
        return gone

    def ping(self) -> bool:
        return bool(self._r.ping())

    def close(self) -> None:
        self._r.close()


@register("redis")
def _open(url: str) -> Store:
    return RedisStore(url)
