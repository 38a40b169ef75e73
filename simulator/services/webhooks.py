"""Webhooks: a transactional outbox of payment events, signed delivery with retries by a background thread, and the journal."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import httpx

from ..domain.signing import webhook_signature
from ..errors import Conflict, WebhookDeliveryNotFound
from ..settings import Settings
from ..storage import Store, Tx
from .clients import ClientRegistry
from .clock import ClockService
from .ids import Uuid7
from .sessions import ns

log = logging.getLogger("gosim.webhooks")

JOURNAL_NS = "webhooks"  # per session: one document per event, with every delivery attempt
QUEUE_NS = "_webhook_queue"  # global: "<due ms>:<session>:<event id>" -> what to deliver next, in due order
PENDING, SENDING, DELIVERED, FAILED, NO_TARGET = "pending", "sending", "delivered", "failed", "no_target"
USER_AGENT = "gosim-webhooks/1"
_KEY_WIDTH = 15


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _queue_key(due_ms: int, session: str, event_id: str) -> str:
    # Zero-padded milliseconds first, so the store's key order is due order and a scan can stop at the first future one.
    return f"{due_ms:0{_KEY_WIDTH}d}:{session}:{event_id}"


def parse_schedule(text: str) -> tuple[float, ...]:
    """`"1,2,4,8"` -> seconds to wait before each retry; an empty string means no retries."""
    try:
        delays = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"webhook_retry_schedule {text!r}: expected seconds separated by commas, e.g. '1,2,4,8'") from None
    if any(d < 0 or d > 86400 for d in delays) or len(delays) > 50:
        raise ValueError(f"webhook_retry_schedule {text!r}: up to 50 delays, each 0..86400 seconds")
    return delays


class WebhookService:
    """Owns the outbox and the journal; `enqueue` runs inside the caller's transaction, delivery never does."""

    def __init__(self, store: Store, clients: ClientRegistry, clock: ClockService, settings: Settings) -> None:
        self._store = store
        self._ids = Uuid7()
        self._clients = clients
        self._clock = clock
        self.schedule = parse_schedule(settings.webhook_retry_schedule)
        self.timeout = max(0.05, settings.webhook_timeout_ms / 1000)
        # A claimed delivery whose worker died is retried once its lease runs out (at-least-once delivery).
        self._lease_ms = int(self.timeout * 1000 * 2) + 5000
        self._periodic: list[Callable[[], Any]] = []
        self._decide: Callable[[str, str, str], Any] | None = None
        self.dispatcher = Dispatcher(self, poll_seconds=max(0.01, settings.webhook_poll_ms / 1000))

    # -- time -----------------------------------------------------------------------------------------------------
    def _real_now(self) -> datetime:
        # Deliveries run on wall-clock time: receivers check `t` against their own clocks, and retries are real waits.
        return self._clock.base.now()

    def _now_ms(self) -> int:
        return int(self._real_now().timestamp() * 1000)

    # -- producing ------------------------------------------------------------------------------------------------
    def target(self, client_id: str, callback_url: str | None) -> str | None:
        client = self._clients.get(client_id)
        return callback_url or (client.webhook_url if client else None)

    def enqueue(
        self, tx: Tx, *, session: str, client_id: str, url: str | None, event_type: str, data: dict[str, Any],
        at: datetime, subject: str,
    ) -> str:
        """Record an event in the outbox as part of the caller's transaction; the dispatcher sends it after commit."""
        event_id = "evt_" + self._ids(self._real_now()).replace("-", "")
        payload = {"id": event_id, "type": event_type, "created_at": _iso(at), "session": session, "data": data}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        doc: dict[str, Any] = {
            "id": event_id, "type": event_type, "subject": subject, "client_id": client_id, "url": url,
            "status": PENDING if url else NO_TARGET, "created_at": _iso(at), "body": body, "attempts": [],
            "cycle_start": 0, "replays": 0, "next_attempt_at": None, "queue_key": None,
        }
        if url:
            key = _queue_key(self._now_ms(), session, event_id)
            doc["queue_key"] = key
            doc["next_attempt_at"] = _iso(self._real_now())
            tx.put(QUEUE_NS, key, {"session": session, "id": event_id})
        tx.put(ns(session, JOURNAL_NS), event_id, doc)
        return event_id

    def notify(self) -> None:
        """Wake this process's dispatcher (starting it if needed); other workers find the outbox on their next poll."""
        self.dispatcher.wake()

    def add_periodic(self, fn: Callable[[], Any]) -> None:
        """Work the dispatcher does on every poll besides delivering, e.g. settling payments whose time has come."""
        self._periodic.append(fn)

    # -- journal --------------------------------------------------------------------------------------------------
    def view(self, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            payload = json.loads(doc["body"])
        except (TypeError, ValueError):
            payload = None
        return {
            "id": doc["id"], "event_type": doc["type"], "subject": doc.get("subject"), "client_id": doc["client_id"],
            "url": doc.get("url"), "status": doc["status"], "created_at": doc["created_at"],
            "next_attempt_at": doc.get("next_attempt_at"), "replays": doc.get("replays", 0),
            "attempts": doc.get("attempts", []), "payload": payload,
        }

    def list(
        self, session: str, *, subject: str | None = None, status: str | None = None, event_type: str | None = None,
        limit: int = 50, cursor: str | None = None,
    ) -> dict[str, Any]:
        # The cursor is the last event id seen: a position in the journal's order, valid whatever happened since.
        docs = [d for _, d in self._store.items(ns(session, JOURNAL_NS), after=cursor or None)]
        if subject:
            docs = [d for d in docs if d.get("subject") == subject]
        if status:
            docs = [d for d in docs if d["status"] == status]
        if event_type:
            docs = [d for d in docs if d["type"] == event_type]
        page = docs[:limit]
        more = len(docs) > limit
        return {
            "items": [self.view(d) for d in page],
            "next_cursor": page[-1]["id"] if more and page else None,
        }

    def replay(self, session: str, event_id: str) -> dict[str, Any]:
        """Send an event again now, same id and body, with a fresh retry budget; attempts keep being journaled."""
        journal = ns(session, JOURNAL_NS)

        def again(tx: Tx) -> dict[str, Any]:
            doc = tx.get(journal, event_id)
            if doc is None:
                raise WebhookDeliveryNotFound()
            if not doc.get("url"):
                raise Conflict("У этого события нет адреса доставки: у системы не задан webhook и у платежа нет callback_url.")
            if doc.get("queue_key"):
                tx.delete(QUEUE_NS, doc["queue_key"])
            key = _queue_key(self._now_ms(), session, event_id)
            doc.update(status=PENDING, queue_key=key, next_attempt_at=_iso(self._real_now()),
                       cycle_start=len(doc.get("attempts", [])), replays=int(doc.get("replays", 0)) + 1)
            tx.put(QUEUE_NS, key, {"session": session, "id": event_id})
            tx.put(journal, event_id, doc)
            return doc

        doc = self._store.atomic(again)
        self.notify()
        return self.view(doc)

    # -- delivering -----------------------------------------------------------------------------------------------
    def tick(self, http: httpx.Client) -> int:
        """One poll: periodic work, then every delivery that is due; returns how many attempts were made."""
        for fn in self._periodic:
            try:
                fn()
            except Exception:  # one failing job must not stop deliveries; it is retried on the next poll
                log.exception("periodic webhook job failed")
        sent = 0
        while not self.dispatcher.stopping:
            due = [(k, v) for k, v in self._store.items(QUEUE_NS, limit=32) if int(k[:_KEY_WIDTH]) <= self._now_ms()]
            if not due:
                break
            for key, entry in due:
                if self.dispatcher.stopping:
                    break
                claimed = self._claim(key, entry)
                if claimed is not None:
                    self._attempt(http, entry["session"], *claimed)
                    sent += 1
        return sent

    def _claim(self, key: str, entry: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        """Take one due delivery atomically: the queue entry moves to a lease key, so no other worker sends it too."""
        session, event_id = entry["session"], entry["id"]
        journal = ns(session, JOURNAL_NS)

        def take(tx: Tx) -> tuple[dict[str, Any], str] | None:
            if tx.get(QUEUE_NS, key) is None:
                return None  # another worker got there first
            tx.delete(QUEUE_NS, key)
            doc = tx.get(journal, event_id)
            if doc is None or doc.get("queue_key") != key or not doc.get("url"):
                return None  # the session was reset, or the entry is stale
            lease = _queue_key(self._now_ms() + self._lease_ms, session, event_id)
            tx.put(QUEUE_NS, lease, {"session": session, "id": event_id})
            doc.update(status=SENDING, queue_key=lease)
            tx.put(journal, event_id, doc)
            return doc, lease

        return self._store.atomic(take)

    def consult(self, decide: Callable[[str, str, str], Any]) -> None:
        """Ask `decide(session, client_id, event_type)` before each attempt: the scenarios' say on the receiver.

        It answers None (deliver as usual) or a decision with `delay` (the receiver is slow), `error` (it answered
        that status) or `broken` (the connection broke); the attempt is journaled and retried like a real failure.
        """
        self._decide = decide

    def _scenario_outcome(self, session: str, doc: dict[str, Any]) -> tuple[float, int | None, str | None]:
        """(delay, status, error) the scenarios impose on this attempt; no error means: really deliver it."""
        decision = self._decide(session, doc["client_id"], doc["type"]) if self._decide else None
        if decision is None:
            return 0.0, None, None
        label = f" (scenario {decision.label})" if decision.label else ""
        if decision.delay >= self.timeout:
            return self.timeout, None, f"timeout{label}"
        if decision.error is not None:
            return decision.delay, decision.error.status, f"HTTP {decision.error.status}{label}"
        if decision.broken is not None:
            return decision.delay, None, f"connection {decision.broken.mode}{label}"
        return decision.delay, None, None

    def _attempt(self, http: httpx.Client, session: str, doc: dict[str, Any], lease: str) -> None:
        client = self._clients.get(doc["client_id"])
        secret = (client.webhook_secret if client else None) or ""
        body = doc["body"].encode()
        number = len(doc.get("attempts", [])) + 1
        started = self._real_now()
        t = int(started.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Gosim-Event-Id": doc["id"],
            "X-Gosim-Event-Type": doc["type"],
            "X-Gosim-Delivery-Attempt": str(number),
            "X-Gosim-Signature": webhook_signature(secret, t, body),
        }
        clock = time.monotonic()
        delay, code, error = self._scenario_outcome(session, doc)
        if delay > 0:
            time.sleep(delay)  # the dispatcher's own thread: a slow receiver delays deliveries, never API calls
        if error is None:
            try:
                response = http.post(doc["url"], content=body, headers=headers, timeout=self.timeout)
                code = response.status_code
                if not 200 <= code < 300:
                    error = f"HTTP {code}"
            except httpx.TimeoutException:
                error = "timeout"
            except Exception as exc:  # refused, reset, a URL httpx will not take: each is a failed attempt, journaled
                error = f"{type(exc).__name__}: {str(exc)[:200]}"
        took = int((time.monotonic() - clock) * 1000)
        self._record(session, doc["id"], lease, {
            "n": number, "at": _iso(started), "status_code": code, "error": error, "duration_ms": took,
        })

    def _record(self, session: str, event_id: str, lease: str, attempt: dict[str, Any]) -> None:
        journal = ns(session, JOURNAL_NS)

        def write(tx: Tx) -> None:
            tx.delete(QUEUE_NS, lease)
            doc = tx.get(journal, event_id)
            if doc is None:
                return
            doc.setdefault("attempts", []).append(attempt)
            if doc.get("queue_key") != lease:
                tx.put(journal, event_id, doc)  # replayed meanwhile: the replay owns the schedule now
                return
            if attempt["error"] is None:
                doc.update(status=DELIVERED, queue_key=None, next_attempt_at=None)
            else:
                tried = len(doc["attempts"]) - int(doc.get("cycle_start", 0))
                if tried <= len(self.schedule):
                    wait = self.schedule[tried - 1]
                    due = self._real_now() + timedelta(seconds=wait)
                    key = _queue_key(int(due.timestamp() * 1000), session, event_id)
                    tx.put(QUEUE_NS, key, {"session": session, "id": event_id})
                    doc.update(status=PENDING, queue_key=key, next_attempt_at=_iso(due))
                    attempt["next_retry_in"] = wait
                else:
                    doc.update(status=FAILED, queue_key=None, next_attempt_at=None)
            tx.put(journal, event_id, doc)

        self._store.atomic(write)


class Dispatcher:
    """One background thread per worker process: polls the outbox, delivers, and stops when asked."""

    def __init__(self, service: WebhookService, poll_seconds: float) -> None:
        self._service = service
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="gosim-webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        if not self.running and not self._stop.is_set():
            self.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            thread = self._thread
            self._stop.set()
            self._wake.set()
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            self._thread = None

    def _run(self) -> None:
        # trust_env=False: an HTTP(S)_PROXY in the environment must not reroute deliveries meant for loopback receivers.
        with httpx.Client(trust_env=False, follow_redirects=False) as http:
            while not self._stop.is_set():
                try:
                    self._service.tick(http)
                except Exception:  # the store may be busy or gone for a moment; the next poll tries again
                    log.exception("webhook dispatcher poll failed")
                self._wake.wait(self._poll)
                self._wake.clear()

