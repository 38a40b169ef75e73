"""The journal's group commit: nothing lost or doubled under concurrent appends, the bound holds, readers see their own."""

from __future__ import annotations

import threading

import pytest

from simulator.services.journal import RING_NS, Journal
from simulator.storage import open_store


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/j.db"
    s = open_store(url)
    yield s
    s.close() if hasattr(s, "close") else None


def test_concurrent_appends_are_all_stored_once_with_increasing_ids(store):
    journal = Journal(store, 10_000)

    def burst(n: int) -> None:
        for i in range(300):
            journal.append({"who": n, "i": i})

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = journal.query(limit=10_000)
    assert found["matched"] == 2400
    ids = [e["id"] for e in found["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 2400  # newest first, no id twice
    for n in range(8):  # each thread's records keep their order
        mine = [e["i"] for e in reversed(found["items"]) if e["who"] == n]
        assert mine == list(range(300))


def test_the_bound_holds_when_batches_are_larger_than_the_ring(store):
    journal = Journal(store, 5)
    assert journal.write([{"n": i} for i in range(12)]) == [1, 2, 3, 4, 5]  # only the newest five are kept
    journal.write([{"n": 12}, {"n": 13}])
    items = journal.query()["items"]
    assert [e["n"] for e in items] == [13, 12, 11, 10, 9] and [e["id"] for e in items] == [7, 6, 5, 4, 3]
    assert len(store.items(RING_NS)) == 5


def test_a_reader_of_the_same_process_sees_every_record_appended_before_it(store):
    journal = Journal(store, 100)
    for i in range(50):
        journal.append({"n": i})
        assert journal.count() == i + 1  # no sleep: the read waits for the writer


def test_a_lowered_size_trims_the_ring_on_the_next_write(store):
    Journal(store, 10).write([{"n": i} for i in range(10)])
    smaller = Journal(store, 3)
    smaller.append({"n": 10})
    assert [e["n"] for e in smaller.query()["items"]] == [10, 9, 8]


def test_a_failing_batch_is_logged_and_the_writer_goes_on(store, caplog, monkeypatch):
    journal = Journal(store, 100)
    calls = {"n": 0}
    real = journal.write

    def flaky(entries):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        return real(entries)

    monkeypatch.setattr(journal, "write", flaky)
    journal.append({"n": 1})
    journal.flush()
    journal.append({"n": 2})
    assert [e["n"] for e in journal.query()["items"]] == [2]
    assert "records lost" in caplog.text


def test_a_record_appended_alone_is_in_the_store_when_append_returns(store):
    journal = Journal(store, 100)
    journal.append({"n": 1}, alone=True)
    assert [e["n"] for _, e in store.items(RING_NS)] == [1]  # read the store directly: no flush, no waiting
    assert journal._writer is None  # no thread was needed
