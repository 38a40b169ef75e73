"""The request journal: a bounded ring of masked call records in the store, shared by every worker, newest first."""

from __future__ import annotations

from typing import Any

from ..storage import Store, Tx

RING_NS = "_journal"
META_NS = "_journal_meta"
META_KEY = "ring"
_KEY_SPACE = 10**12  # keys count down, so the store's key order is newest first


def _key(seq: int) -> str:
    return f"{_KEY_SPACE - seq:012d}"


def status_matches(status: int, wanted: str | int | None) -> bool:
    if wanted is None or wanted == "":
        return True
    text = str(wanted).lower()
    if text.endswith("xx") and len(text) == 3:
        return str(status)[:1] == text[0]
    return str(status) == text


class Journal:
    """Append is one transaction (write the entry, drop the oldest beyond `size`), so the bound holds under load."""

    def __init__(self, store: Store, size: int) -> None:
        self._store = store
        self.size = max(0, int(size))

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def append(self, entry: dict[str, Any]) -> int:
        size = self.size

        def add(tx: Tx) -> int:
            meta = tx.get(META_NS, META_KEY) or {"next": 1, "low": 1}
            seq, low = int(meta["next"]), int(meta["low"])
            tx.put(RING_NS, _key(seq), {**entry, "id": seq})
            seq += 1
            while seq - low > size:  # usually one step; more only if the size was lowered since the last start
                tx.delete(RING_NS, _key(low))
                low += 1
            tx.put(META_NS, META_KEY, {"next": seq, "low": low})
            return seq - 1

        return self._store.atomic(add)

    def query(
        self, *, session: str | None = None, client: str | None = None, operation: str | None = None,
        status: str | int | None = None, limit: int = 100,
    ) -> dict[str, Any]:
        items = []
        matched = 0
        for _, entry in self._store.items(RING_NS):
            if session is not None and entry.get("session") != session:
                continue
            if client is not None and entry.get("client") != client:
                continue
            if operation is not None and entry.get("operation") != operation:
                continue
            if not status_matches(int(entry.get("status") or 0), status):
                continue
            matched += 1
            if len(items) < limit:
                items.append(entry)
        return {"items": items, "matched": matched, "size": self.size}

    def count(self) -> int:
        return len(self._store.items(RING_NS))

    def forget(self, session: str) -> int:
        """Drop a session's records (its reset); the ring's counters stay, so ids never repeat."""
        keys = [k for k, entry in self._store.items(RING_NS) if entry.get("session") == session]

        def drop(tx: Tx) -> int:
            for key in keys:
                tx.delete(RING_NS, key)
            return len(keys)

        return self._store.atomic(drop) if keys else 0
