"""Shared adapters (SQLite, Redis) across processes: what one process writes, another reads, and races stay safe."""

from __future__ import annotations

import multiprocessing

import pytest

from simulator.storage import open_store


def _claim(url: str, n: int, results) -> None:
    store = open_store(url)
    won = store.add("s/lock", "charge", {"by": n})
    results.put((n, won))
    for _ in range(25):
        store.update("s/c", "n", lambda cur: {"v": (cur or {"v": 0})["v"] + 1})
    store.close()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_processes_racing_on_one_store_agree_on_one_winner_and_lose_no_update(tmp_path, kind, request):
    if kind == "redis":
        server = request.getfixturevalue("redis_server")
        server.flush()
        url = server.url
    else:
        url = f"sqlite:///{tmp_path / 'state.db'}"
    open_store(url).close()  # create the file and schema once
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_claim, args=(url, n, results)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    outcomes = [results.get(timeout=5) for _ in procs]
    assert sum(1 for _, won in outcomes if won) == 1
    store = open_store(url)
    assert store.get("s/c", "n") == {"v": 100}
    winner = next(n for n, won in outcomes if won)
    assert store.get("s/lock", "charge") == {"by": winner}
