"""The storage port: namespaced JSON documents with atomic read-modify-write transactions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, TypeVar

T = TypeVar("T")
Doc = dict[str, Any]


class Tx(ABC):
    """What a transaction function may do; writes become visible together when it returns."""

    @abstractmethod
    def get(self, ns: str, key: str) -> Doc | None: ...

    @abstractmethod
    def put(self, ns: str, key: str, value: Doc) -> None: ...

    @abstractmethod
    def delete(self, ns: str, key: str) -> None: ...


class Store(ABC):
    """A key-value store of JSON documents, grouped in namespaces.

    ``atomic(fn)`` runs ``fn(tx)`` so that no other writer, in this process or another, interleaves with it:
    this is what keeps a charge from being paid twice when several workers or replicas race.
    An exception raised by ``fn`` aborts the transaction and nothing it wrote is kept.
    """

    @abstractmethod
    def atomic(self, fn: Callable[[Tx], T]) -> T: ...

    @abstractmethod
    def get(self, ns: str, key: str) -> Doc | None: ...

    @abstractmethod
    def items(self, ns: str, *, after: str | None = None, limit: int | None = None) -> list[tuple[str, Doc]]:
        """Documents of a namespace in key order, starting after ``after``."""

    @abstractmethod
    def clear(self, ns_prefix: str = "") -> int:
        """Delete every namespace that starts with the prefix; returns how many documents went."""

    def put(self, ns: str, key: str, value: Doc) -> None:
        self.atomic(lambda tx: tx.put(ns, key, value))

    def delete(self, ns: str, key: str) -> None:
        self.atomic(lambda tx: tx.delete(ns, key))

    def add(self, ns: str, key: str, value: Doc) -> bool:
        """Insert only if absent; True when this call inserted it."""

        def insert(tx: Tx) -> bool:
            if tx.get(ns, key) is not None:
                return False
            tx.put(ns, key, value)
            return True

        return self.atomic(insert)

    def update(self, ns: str, key: str, fn: Callable[[Doc | None], Doc | None]) -> Doc | None:
        """Replace a document by ``fn(current)`` atomically; ``None`` from fn deletes it."""

        def change(tx: Tx) -> Doc | None:
            new = fn(tx.get(ns, key))
            if new is None:
                tx.delete(ns, key)
            else:
                tx.put(ns, key, new)
            return new

        return self.atomic(change)

    def ping(self) -> bool:
        self.get("_meta", "ping")
        return True

    def close(self) -> None:  # noqa: B027 (optional for adapters)
        pass
