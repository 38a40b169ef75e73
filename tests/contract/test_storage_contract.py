"""Every storage adapter keeps the same promises; one suite, parametrised over the adapters."""

from __future__ import annotations

import threading

import pytest

from simulator.storage import open_store


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        server.flush()
        url = server.url
    else:
        url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'state.db'}"
    s = open_store(url)
    yield s
    s.close()


def test_a_document_put_is_read_back_equal(store):
    store.put("s/things", "a", {"n": 1, "name": "Иванов", "nested": {"list": [1, 2]}})
    assert store.get("s/things", "a") == {"n": 1, "name": "Иванов", "nested": {"list": [1, 2]}}


def test_a_missing_document_is_none(store):
    assert store.get("s/things", "nope") is None


def test_changing_a_returned_document_does_not_change_the_stored_one(store):
    store.put("s/things", "a", {"n": 1})
    doc = store.get("s/things", "a")
    doc["n"] = 2
    assert store.get("s/things", "a") == {"n": 1}


def test_add_inserts_only_when_absent(store):
    assert store.add("s/k", "x", {"v": 1}) is True
    assert store.add("s/k", "x", {"v": 2}) is False
    assert store.get("s/k", "x") == {"v": 1}


def test_update_replaces_and_none_deletes(store):
    store.update("s/k", "x", lambda cur: {"v": (cur or {}).get("v", 0) + 1})
    store.update("s/k", "x", lambda cur: {"v": cur["v"] + 1})
    assert store.get("s/k", "x") == {"v": 2}
    store.update("s/k", "x", lambda cur: None)
    assert store.get("s/k", "x") is None


def test_an_exception_in_a_transaction_keeps_nothing_it_wrote(store):
    store.put("s/k", "kept", {"v": 1})

    def half_done(tx):
        tx.put("s/k", "kept", {"v": 2})
        tx.put("s/k", "new", {"v": 3})
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        store.atomic(half_done)
    assert store.get("s/k", "kept") == {"v": 1}
    assert store.get("s/k", "new") is None


def test_a_transaction_reads_its_own_writes(store):
    def write_then_read(tx):
        tx.put("s/k", "x", {"v": 7})
        return tx.get("s/k", "x")

    assert store.atomic(write_then_read) == {"v": 7}


def test_items_come_in_key_order_and_page_after_a_key(store):
    for key in ["c", "a", "b", "d"]:
        store.put("s/list", key, {"k": key})
    assert [k for k, _ in store.items("s/list")] == ["a", "b", "c", "d"]
    assert [k for k, _ in store.items("s/list", after="b")] == ["c", "d"]
    assert [k for k, _ in store.items("s/list", limit=2)] == ["a", "b"]


def test_clear_removes_only_namespaces_with_the_prefix(store):
    store.put("one/a", "x", {})
    store.put("one/b", "x", {})
    store.put("one-more/a", "x", {})
    store.put("two/a", "x", {})
    assert store.clear("one/") == 2
    assert store.get("one/a", "x") is None
    assert store.get("one-more/a", "x") == {}
    assert store.get("two/a", "x") == {}


def test_prefix_wildcards_do_not_widen_a_clear(store):
    store.put("a_b/x", "k", {})
    store.put("axb/x", "k", {})
    store.clear("a_b/")
    assert store.get("axb/x", "k") == {}


def test_concurrent_increments_from_many_threads_lose_nothing(store):
    def bump():
        for _ in range(50):
            store.update("s/c", "n", lambda cur: {"v": (cur or {"v": 0})["v"] + 1})

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get("s/c", "n") == {"v": 400}


def test_only_one_of_many_racing_inserts_wins(store):
    wins = []

    def claim(i):
        if store.add("s/lock", "charge", {"by": i}):
            wins.append(i)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert store.get("s/lock", "charge") == {"by": wins[0]}


def test_an_unknown_scheme_is_refused_with_the_known_ones_named():
    with pytest.raises(ValueError, match="memory://"):
        open_store("mongodb://localhost")
