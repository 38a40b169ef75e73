"""SQLite's per-call read cache: one snapshot per call, fresh on the next call, own writes always seen."""

from __future__ import annotations

import threading

import pytest

from simulator.storage import READ_SNAPSHOT, journal_url, open_store


@pytest.fixture
def stores(tmp_path):
    """Two stores on one file: two workers' views of the same state."""
    a = open_store(f"sqlite:///{tmp_path}/state.db")
    b = open_store(f"sqlite:///{tmp_path}/state.db")
    yield a, b
    a.close()
    b.close()


def call(fn):
    """Run fn as one call: inside a READ_SNAPSHOT of its own, as the request context sets it."""
    token = READ_SNAPSHOT.set(object())
    try:
        return fn()
    finally:
        READ_SNAPSHOT.reset(token)


def test_another_workers_write_is_seen_by_the_next_call_not_inside_the_current_one(stores):
    a, b = stores
    a.put("ns", "k", {"v": 1})

    def reads_twice_around_a_foreign_write():
        first = a.get("ns", "k")
        b.put("ns", "k", {"v": 2})  # another worker commits meanwhile
        return first, a.get("ns", "k")

    assert call(reads_twice_around_a_foreign_write) == ({"v": 1}, {"v": 1})  # one snapshot per call
    assert call(lambda: a.get("ns", "k")) == {"v": 2}  # the next call sees it
    b.delete("ns", "k")
    assert call(lambda: a.get("ns", "k")) is None


def test_a_calls_own_writes_are_seen_by_its_later_reads(stores):
    a, _ = stores
    a.put("ns", "k", {"v": 1})

    def read_write_read():
        before = a.get("ns", "k")
        a.atomic(lambda tx: tx.put("ns", "k", {"v": 5}))
        return before, a.get("ns", "k")

    assert call(read_write_read) == ({"v": 1}, {"v": 5})


def test_reads_outside_a_call_always_go_to_the_database(stores):
    a, b = stores
    a.put("ns", "k", {"v": 1})
    assert a.get("ns", "k") == {"v": 1}
    b.put("ns", "k", {"v": 2})
    assert a.get("ns", "k") == {"v": 2}


def test_cached_documents_are_copies_a_caller_may_change(stores):
    a, _ = stores
    a.put("ns", "k", {"items": [1]})

    def mutate_then_read():
        doc = a.get("ns", "k")
        doc["items"].append(2)
        return a.get("ns", "k")

    assert call(mutate_then_read) == {"items": [1]}


def test_threads_keep_their_own_snapshots(stores):
    a, b = stores
    a.put("ns", "k", {"v": 1})
    seen = {}

    def worker():
        seen["thread"] = call(lambda: a.get("ns", "k"))

    call(lambda: a.get("ns", "k"))  # warm this thread's cache
    b.put("ns", "k", {"v": 3})
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["thread"] == {"v": 3}
    assert call(lambda: a.get("ns", "k")) == {"v": 3}


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///.gosim/state.db", "sqlite:///.gosim/state.journal.db"),
    ("sqlite:////tmp/x/state", "sqlite:////tmp/x/state.journal"),
    ("memory://", None),
    ("redis://127.0.0.1:6379/0", None),
])
def test_the_journal_gets_a_file_of_its_own_only_on_sqlite(url, expected):
    assert journal_url(url) == expected
