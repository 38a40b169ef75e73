"""Handlers of the `sessions` tag: resetting what a test run (or every run) did."""

from __future__ import annotations

from ..http.context import services, session
from ..services.sessions import session_prefix


def reset_state(all: bool = False) -> dict:  # noqa: A002 (the spec's name)
    store = services().store
    if all:
        # Everything but the shared epoch and anchor, so that time and fixture dates stay where they were.
        meta = store.items("_meta")
        removed = store.clear("")
        for key, doc in meta:
            store.put("_meta", key, doc)
        services().scenarios.install_file_layer(force=True)  # back to the scenario file the server started with
        return {"reset": "*", "removed": removed - len(meta)}
    sess = session()
    # Scenarios, counters and seed live under the session's prefix; its journal records are in the shared ring.
    forgotten = services().journal.forget(sess)
    return {"reset": sess, "removed": store.clear(session_prefix(sess)) + forgotten}

