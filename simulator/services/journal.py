"""The request journal: a bounded ring of masked call records in the store, shared by every worker, newest first."""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..storage import Store, Tx

RING_NS = "_journal"
META_NS = "_journal_meta"
META_KEY = "ring"
_KEY_SPACE = 10**12  # keys count down, so the store's key order is newest first
log = logging.getLogger("gosim.journal")


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
    """A bounded ring in the store, written by group commit.

    `append` hands the record to this process's writer thread and returns at once; the writer takes everything
    queued since its last write and stores it in one transaction (write the entries, drop the oldest beyond `size`),
    so the bound holds under load and a busy server pays one store transaction per batch, not per call: on SQLite
    that is one write lock per batch instead of one per call, which is what let two workers serialise each other.
    When idle, a record reaches the store a fraction of a millisecond after its answer was sent, as before.
    Readers of this process (`query`, `count`, `forget`) first wait for its queue to drain, so a worker always sees
    its own calls; another worker's in-flight batch lands within that same fraction of a millisecond.
    """

    def __init__(self, store: Store, size: int) -> None:
        self._store = store
        self.size = max(0, int(size))
        self._queue: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._writing = False
        self._writer: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def append(self, entry: dict[str, Any], *, alone: bool = False) -> None:
        """Stores the record; `alone` says no other call is in flight in this process, so nothing would share its batch:
        then it is written right here, as soon as its answer is out, and a client that calls, then reads the journal
        from another worker, finds it (a sequential client always does; only concurrent load is batched)."""
        if alone:
            with self._cond:
                idle = not self._queue and not self._writing
            if idle:
                try:
                    self.write([entry])
                except Exception as exc:  # the journal is a witness; losing one record must not fail the call
                    log.warning("journal: 1 record lost: %r", exc)
                return
        with self._cond:
            self._queue.append(entry)
            if self._writer is None or not self._writer.is_alive():
                # Started by the first record, in the process that serves (never carried across a fork).
                self._writer = threading.Thread(target=self._run, name="gosim-journal", daemon=True)
                self._writer.start()
            self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> None:
        """Returns once every record this process appended so far is in the store (or the timeout passed)."""
        with self._cond:
            self._cond.wait_for(lambda: not self._queue and not self._writing, timeout=timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue))
                batch, self._queue = self._queue, []
                self._writing = True
            try:
                self.write(batch)
            except Exception as exc:  # the journal is a witness; losing a batch must not stop the next one
                log.warning("journal: %d records lost: %r", len(batch), exc)
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()

    def write(self, entries: list[dict[str, Any]]) -> list[int]:
        """Stores the entries, oldest first, in one transaction; returns their ids."""
        size = self.size

        def add(tx: Tx) -> list[int]:
            meta = tx.get(META_NS, META_KEY) or {"next": 1, "low": 1}
            seq, low = int(meta["next"]), int(meta["low"])
            ids = []
            for entry in entries[-size:] if size else ():
                tx.put(RING_NS, _key(seq), {**entry, "id": seq})
                ids.append(seq)
                seq += 1
            while seq - low > size:  # one step per new entry; more only if the size was lowered since the last start
                tx.delete(RING_NS, _key(low))
                low += 1
            tx.put(META_NS, META_KEY, {"next": seq, "low": low})
            return ids

        return self._store.atomic(add)

    def query(
        self, *, session: str | None = None, client: str | None = None, operation: str | None = None,
        status: str | int | None = None, limit: int = 100,
    ) -> dict[str, Any]:
        self.flush()
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
        self.flush()
        return len(self._store.items(RING_NS))

    def forget(self, session: str) -> int:
        """Drop a session's records (its reset); the ring's counters stay, so ids never repeat."""
        self.flush()
        keys = [k for k, entry in self._store.items(RING_NS) if entry.get("session") == session]

        def drop(tx: Tx) -> int:
            for key in keys:
                tx.delete(RING_NS, key)
            return len(keys)

        return self._store.atomic(drop) if keys else 0
