"""The on-disk index of a generated dataset: where each person is in persons.jsonl, charges by УИН, and logins.

The index holds positions, not copies: a person is one pread of its line from persons.jsonl, decoded on demand, so a
worker keeps only what it has recently served, and the index is a few MB beside a 150 MB dataset.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import sha1
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["DatasetIndex", "ensure_index", "build_index", "index_path", "source_path"]

# Bump when the schema or what goes into it changes: an index of another format is rebuilt like a stale one.
FORMAT = "1"
_BATCH = 2000  # persons per savepoint while building: big enough to be fast, small enough to re-run one by one

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE persons (oid INTEGER PRIMARY KEY, offset INTEGER NOT NULL, length INTEGER NOT NULL);
CREATE TABLE charges (uin TEXT PRIMARY KEY, kind TEXT NOT NULL, oid INTEGER NOT NULL, payee TEXT) WITHOUT ROWID;
CREATE TABLE logins (key TEXT PRIMARY KEY, oid INTEGER NOT NULL) WITHOUT ROWID;
"""


class StaleIndex(ValueError):
    """The index was built from another version of the dataset than the one now on disk."""


def source_path(data: Path) -> Path:
    """`--data` names persons.jsonl or the directory that holds it."""
    data = Path(data)
    return data / "persons.jsonl" if data.is_dir() else data


def index_path(source: Path) -> Path:
    """persons.jsonl -> persons.index.sqlite beside it: derived data travels with the dataset it was built from."""
    return source.with_name(source.stem + ".index.sqlite")


def _fingerprint(source: Path) -> dict[str, str]:
    # Size and mtime in nanoseconds: free to read, and any rewrite of the file (write_dataset renames a new one in)
    # changes them. A content hash of 150 MB would cost more than reading the index saves.
    st = source.stat()
    return {"format": FORMAT, "source_size": str(st.st_size), "source_mtime_ns": str(st.st_mtime_ns)}


def _fresh(index: Path, source: Path) -> bool:
    try:
        conn = sqlite3.connect(_ro_uri(index), uri=True)
    except sqlite3.Error:
        return False
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
    except sqlite3.Error:
        return False  # not an index (or half of one from an older, non-atomic writer): build it again
    finally:
        conn.close()
    return all(meta.get(k) == v for k, v in _fingerprint(source).items())


def _ro_uri(path: Path) -> str:
    # immutable=1: the file is never changed in place (a rebuild renames a new file over it), so SQLite may skip
    # its per-query file locking; a reader that opened the old file keeps reading the old, consistent inode.
    return "file:" + quote(str(path.resolve())) + "?mode=ro&immutable=1"


def _fallback_path(source: Path) -> Path:
    # A dataset on a read-only mount still gets an index: in the temp directory, named by the dataset's path.
    digest = sha1(str(source.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"gosim-{digest}.index.sqlite"


@contextmanager
def _build_lock(index: Path) -> Iterator[None]:
    """Workers that start together wait for the one that builds instead of all building the same file."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; each builder still renames a complete file in, only work is doubled
        yield
        return
    with open(index.with_name(index.name + ".lock"), "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def ensure_index(data: Path) -> Path:
    """The path of an index that matches the dataset, building it first when it is missing or stale."""
    source = source_path(data)
    if not source.is_file():
        raise ValueError(f"dataset {source} not found")
    refused: OSError | None = None
    for index in (index_path(source), _fallback_path(source)):
        if _fresh(index, source):
            return index
        try:
            with _build_lock(index):
                if not _fresh(index, source):  # someone else may have built it while we waited
                    for leftover in index.parent.glob(f".{index.name}.*.tmp"):
                        leftover.unlink(missing_ok=True)  # a builder killed half-way; none runs now, we hold the lock
                    build_index(source, index)
            return index
        except OSError as exc:  # a read-only directory or mount (EACCES, EROFS): try the temp directory
            refused = exc
    raise OSError(f"no writable place for the index of {source}: {refused}")


def build_index(source: Path, target: Path | None = None) -> Path:
    """Index persons.jsonl into `target` (a temp file renamed in at the end, so no reader ever sees half of it).

    Refuses, with the line and the value, a person defined twice and a УИН used twice. Payees are checked when the
    index is opened, against the payees of the fixtures it is served with.
    """
    source = Path(source)
    target = Path(target) if target is not None else index_path(source)
    fingerprint = _fingerprint(source)  # taken before reading, so a file changed meanwhile reads as stale later
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix="." + target.name + ".", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            # No durability needed (a crash leaves only a temp file), but savepoints must roll back: MEMORY, not OFF.
            conn.executescript(
                "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA cache_size=-16000;" + _SCHEMA
            )
            conn.execute("BEGIN")
            counts, payees = _fill(conn, source)
            meta = {**fingerprint, "persons": str(counts[0]), "charges": str(counts[1]),
                    "payees": json.dumps(sorted(payees, key=str), ensure_ascii=False)}
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            conn.execute("COMMIT")
        finally:
            conn.close()
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; other users serving the same dataset must read it
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _fill(conn: sqlite3.Connection, source: Path) -> tuple[tuple[int, int], set[str | None]]:
    from .directory import login_keys  # here, not at the top: directory.py imports this module

    persons: list[tuple[int, int, int, int]] = []
    charges: list[tuple[int, str, str, int, str | None]] = []
    logins: list[tuple[str, int]] = []
    payees: set[str | None] = set()
    n_persons = n_charges = 0

    def flush() -> None:
        _insert(conn, source, "INSERT INTO persons VALUES (?, ?, ?)", persons, "person {} is defined twice")
        _insert(conn, source, "INSERT INTO charges VALUES (?, ?, ?, ?)", charges, "УИН {} is used twice")
        # The first person to claim a login keeps it, as the in-memory directory always did.
        conn.executemany("INSERT OR IGNORE INTO logins VALUES (?, ?)", logins)
        persons.clear()
        charges.clear()
        logins.clear()

    offset = 0
    with source.open("rb") as fh:
        for lineno, line in enumerate(fh, 1):
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                person = json.loads(line)
                oid = int(person["oid"])
                uins = [r["uin"] for r in (person.get("fines") or []) + (person.get("debts") or [])]
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{source.name}:{lineno}: not a person record (no {exc})") from None
            persons.append((lineno, oid, start, len(line.rstrip(b"\r\n"))))
            for login in (person.get("phone"), person.get("email"), person.get("snils")):
                for key in login_keys(login or "")[:1]:
                    logins.append((key, oid))
            for kind, items in (("fine", person.get("fines") or []), ("debt", person.get("debts") or [])):
                for record in items:
                    payee = record.get("payee")
                    charges.append((lineno, record["uin"], kind, oid, payee))
                    payees.add(payee)
            n_persons += 1
            n_charges += len(uins)
            if len(persons) >= _BATCH:
                flush()
    flush()
    return (n_persons, n_charges), payees


def _insert(conn: sqlite3.Connection, source: Path, sql: str, rows: list[tuple], message: str) -> None:
    """rows are (line number, *values); a unique-key clash is reported with the line and the key that clashed."""
    conn.execute("SAVEPOINT batch")
    try:
        conn.executemany(sql, (row[1:] for row in rows))
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK TO batch")
        for lineno, *values in rows:  # the slow path only runs once, on the way to refusing the dataset
            try:
                conn.execute(sql, values)
            except sqlite3.IntegrityError:
                raise ValueError(f"{source.name}:{lineno}: " + message.format(values[0])) from None
        raise
    finally:
        conn.execute("RELEASE batch")


class DatasetIndex:
    """One read-only connection per worker, shared by its handler threads behind a lock (each read is microseconds);
    persons are read with pread, which needs no lock."""

    def __init__(self, path: Path, source: Path) -> None:
        self.path = Path(path)
        self.source = Path(source)
        self._conn = sqlite3.connect(_ro_uri(self.path), uri=True, check_same_thread=False)
        self._conn.execute("PRAGMA cache_size=-2000")  # 2 MB of pages per worker; the OS caches the rest of the file
        self._lock = threading.Lock()
        self.meta = dict(self._conn.execute("SELECT key, value FROM meta"))
        # The file descriptor, not the name, is what gets read: a dataset renamed over this one later cannot mix in.
        self._fd = os.open(self.source, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        st = os.fstat(self._fd)
        if (str(st.st_size), str(st.st_mtime_ns)) != (self.meta["source_size"], self.meta["source_mtime_ns"]):
            self.close()
            raise StaleIndex(f"{self.path} does not match {self.source}")
        self.persons = int(self.meta["persons"])
        self.charges = int(self.meta["charges"])
        self.payees: list[str | None] = json.loads(self.meta["payees"])

    @classmethod
    def open(cls, data: Path) -> "DatasetIndex":
        try:
            return cls(ensure_index(data), source_path(data))
        except StaleIndex:  # the dataset was replaced between the check and the open: once more settles it
            return cls(ensure_index(data), source_path(data))

    def _one(self, sql: str, args: tuple) -> Any:
        with self._lock:
            return self._conn.execute(sql, args).fetchone()

    def person(self, oid: int) -> dict[str, Any] | None:
        row = self._one("SELECT offset, length FROM persons WHERE oid = ?", (oid,))
        return json.loads(os.pread(self._fd, row[1], row[0])) if row else None

    def charge(self, uin: str) -> tuple[str, int] | None:
        """(kind, oid) of a УИН; the record itself is the person's, so it is read with the person."""
        row = self._one("SELECT kind, oid FROM charges WHERE uin = ?", (uin,))
        return (row[0], row[1]) if row else None

    def login(self, key: str) -> int | None:
        row = self._one("SELECT oid FROM logins WHERE key = ?", (key,))
        return row[0] if row else None

    def first_with_payee(self, payee: str | None) -> str | None:
        row = self._one("SELECT uin FROM charges WHERE payee IS ? ORDER BY uin LIMIT 1", (payee,))
        return row[0] if row else None

    def oids(self) -> list[int]:
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT oid FROM persons ORDER BY oid")]

    def uins(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT uin FROM charges ORDER BY uin")]

    def close(self) -> None:
        self._conn.close()
        os.close(self._fd)
