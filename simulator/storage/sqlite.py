"""sqlite:///path adapter: WAL-mode file shared by every worker process on one machine."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import unquote, urlsplit

from . import READ_SNAPSHOT, register
from .base import Doc, Store, Tx

T = TypeVar("T")
_CACHE_LIMIT = 2_000  # documents per thread (one per thread: the loop and the WSGI pool); past it the cache starts over

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
"""


class _SqliteTx(Tx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, ns: str, key: str) -> Doc | None:
        row = self._conn.execute("SELECT value FROM docs WHERE ns = ? AND key = ?", (ns, key)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, ns: str, key: str, value: Doc) -> None:
        self._conn.execute(
            "INSERT INTO docs (ns, key, value) VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value",
            (ns, key, json.dumps(value, ensure_ascii=False, separators=(",", ":"))),
        )

    def delete(self, ns: str, key: str) -> None:
        self._conn.execute("DELETE FROM docs WHERE ns = ? AND key = ?", (ns, key))


class SqliteStore(Store):
    def __init__(self, path: str) -> None:
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        # Writers queue on a lock instead of on SQLite's busy handler, which polls with sleeps of 1 to 100 ms: a
        # thread lock for this process's threads, an flock on a side file for the other worker processes. The
        # kernel hands the flock to the next waiter the moment it is released. (Another program writing the
        # database without the side lock still just meets the busy handler.)
        self._writers = threading.Lock()
        self._lock_file: tuple[int, int] | None = None  # (pid, fd): opened per process, never used across a fork
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a transaction takes the write lock
            # before it reads, and two workers can never both see "not paid yet".
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")
            # 1 MiB of page cache per connection, not 2: a worker has one connection per thread and per file (the
            # loop, the WSGI pool, the journal writer, the webhook dispatcher) and the OS caches the file anyway.
            conn.execute("PRAGMA cache_size = -1024")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def _lock_fd(self) -> int:
        pid = os.getpid()
        if self._lock_file is None or self._lock_file[0] != pid:
            self._lock_file = (pid, os.open(f"{self.path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o644))
        return self._lock_file[1]

    def atomic(self, fn: Callable[[Tx], T]) -> T:
        conn = self._conn()
        with self._writers:
            fd = self._lock_fd()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(_SqliteTx(conn))
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                self._local.cache = {}  # this connection's own writes do not move its data_version
                self._local.token = None
        return result

    def get(self, ns: str, key: str) -> Doc | None:
        """A read; inside a call (READ_SNAPSHOT set) served from this thread's cache while the database is unchanged.

        `PRAGMA data_version` changes whenever another connection (another thread or worker) commits, so one check
        per call tells whether the cached documents are still the database's; this thread's own commits clear the
        cache in `atomic`. A call thus reads one consistent snapshot taken at its first read, as a read transaction
        would, for the price of one pragma instead of a query per document.
        """
        conn = self._conn()
        token = READ_SNAPSHOT.get()
        if token is None:
            return _SqliteTx(conn).get(ns, key)
        local = self._local
        if getattr(local, "token", None) is not token:
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version != getattr(local, "version", None) or len(local.cache) > _CACHE_LIMIT:
                local.cache = {}
                local.version = version
            local.token = token
        try:
            text = local.cache[(ns, key)]
        except KeyError:
            row = conn.execute("SELECT value FROM docs WHERE ns = ? AND key = ?", (ns, key)).fetchone()
            text = local.cache[(ns, key)] = row[0] if row else None
        return json.loads(text) if text is not None else None

    def items(self, ns: str, *, after: str | None = None, limit: int | None = None) -> list[tuple[str, Doc]]:
        sql = "SELECT key, value FROM docs WHERE ns = ?"
        args: list[object] = [ns]
        if after is not None:
            sql += " AND key > ?"
            args.append(after)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [(k, json.loads(v)) for k, v in self._conn().execute(sql, args)]

    def clear(self, ns_prefix: str = "") -> int:
        def wipe(tx: Tx) -> int:
            conn = self._conn()
            if not ns_prefix:
                return conn.execute("DELETE FROM docs").rowcount
            # Prefix match by range so that LIKE's wildcards in a session id cannot widen it.
            return conn.execute(
                "DELETE FROM docs WHERE ns >= ? AND ns < ?", (ns_prefix, ns_prefix + "\U0010ffff")
            ).rowcount

        return self.atomic(wipe)

    def close(self) -> None:
        if self._lock_file is not None and self._lock_file[0] == os.getpid():
            try:
                os.close(self._lock_file[1])
            except OSError:
                pass
            self._lock_file = None
        with self._conns_lock:
            for conn in self._conns:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._conns.clear()
        self._local = threading.local()


@register("sqlite")
def _open(url: str) -> Store:
    parts = urlsplit(url)
    # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy spells them; sqlite:// alone is in memory.
    raw = unquote(parts.netloc + parts.path)
    path = raw[1:] if raw.startswith("/") else raw
    if not path:
        # Each thread has its own connection, so an in-memory database would not be shared: use memory:// instead.
        raise ValueError("sqlite storage needs a file path, e.g. sqlite:///.gosim/state.db")
    return SqliteStore(path)
