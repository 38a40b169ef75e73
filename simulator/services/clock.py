"""Simulated time per session: the shared epoch, each session's offset and freeze, read by every rule that needs now."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone

from ..domain.clock import Clock, FixedClock, SimClock, SystemClock
from ..storage import Store
from .sessions import ns

_META = "_meta"
# A per-request memo of session clock states, set by RequestContextMiddleware around each API call (None elsewhere):
# token verification, the rules and the journal each ask for "now", and on Redis every ask is a round trip.
# A ContextVar, not an attribute: each request (and the handler thread a2wsgi copies the context into) has its own.
REQUEST_CLOCKS: ContextVar[dict | None] = ContextVar("gosim_request_clocks", default=None)
MAX_OFFSET = timedelta(days=36600)  # a century: far enough for any test, near enough that dates stay representable


class ClockService:
    """Every worker and replica derives the same time: base clock + the epoch shift + the session's offset."""

    def __init__(self, store: Store, base: Clock | None = None, start: datetime | None = None) -> None:
        self._store = store
        self._base = base or SystemClock()
        # The epoch is stored once, first writer wins, so all workers agree on where simulated time began.
        self._store.add(_META, "epoch", {"real": self._base.now().timestamp(), "sim": (start or self._base.now()).timestamp()})
        epoch = self._store.get(_META, "epoch") or {}
        self._shift = timedelta(seconds=float(epoch["sim"]) - float(epoch["real"]))
        anchor = (self._base.now() + self._shift).astimezone(timezone(timedelta(hours=3))).date()
        self._store.add(_META, "anchor", {"date": anchor.isoformat()})
        self.anchor = date.fromisoformat((self._store.get(_META, "anchor") or {})["date"])

    @property
    def base(self) -> Clock:
        return self._base

    def state(self, session: str) -> dict:
        memo = REQUEST_CLOCKS.get()
        if memo is not None and session in memo:
            return dict(memo[session])
        st = self._store.get(ns(session, "clock"), "state") or {"offset": 0.0, "frozen_at": None}
        if memo is not None:
            memo[session] = dict(st)
        return st

    def _forget(self, session: str) -> None:
        """A write to the session's clock in this request must be seen by its next read."""
        memo = REQUEST_CLOCKS.get()
        if memo is not None:
            memo.pop(session, None)

    def for_session(self, session: str) -> SimClock:
        st = self.state(session)
        frozen = datetime.fromtimestamp(st["frozen_at"], tz=timezone.utc) if st.get("frozen_at") is not None else None
        return SimClock(offset=self._shift + timedelta(seconds=st["offset"]), frozen_at=frozen, base=self._base)

    def advance(self, session: str, by: timedelta) -> SimClock:
        """Move the session's clock forward; refuses to go more than MAX_OFFSET away (dates must stay representable)."""

        def move(st: dict | None) -> dict:
            st = st or {"offset": 0.0, "frozen_at": None}
            ahead = st["offset"] + by.total_seconds()
            if st.get("frozen_at") is not None:
                ahead = st["frozen_at"] + by.total_seconds() - (self._base.now() + self._shift).timestamp()
            if abs(ahead) > MAX_OFFSET.total_seconds():
                raise ValueError(f"the clock may move at most {MAX_OFFSET.days} days from now")
            if st.get("frozen_at") is not None:
                st["frozen_at"] += by.total_seconds()
            else:
                st["offset"] += by.total_seconds()
            return st

        self._forget(session)
        self._store.update(ns(session, "clock"), "state", move)
        return self.for_session(session)

    def freeze(self, session: str) -> SimClock:
        now = self.for_session(session).now()
        self._store.update(
            ns(session, "clock"), "state", lambda st: {**(st or {"offset": 0.0}), "frozen_at": now.timestamp()}
        )
        self._forget(session)
        return self.for_session(session)

    def unfreeze(self, session: str) -> SimClock:
        def thaw(st: dict | None) -> dict:
            st = st or {"offset": 0.0, "frozen_at": None}
            if st.get("frozen_at") is not None:
                # Keep "now" where the freeze left it: the offset absorbs the real time that passed meanwhile.
                real_now = (self._base.now() + self._shift).timestamp()
                st["offset"] = st["frozen_at"] - real_now
                st["frozen_at"] = None
            return st

        self._forget(session)
        self._store.update(ns(session, "clock"), "state", thaw)
        return self.for_session(session)


__all__ = ["ClockService", "FixedClock", "SystemClock"]
