"""Prometheus metrics: per-worker counters kept in memory, flushed to the store, summed over every worker at scrape time.

Why the store and not prometheus_client's multiprocess mode: gosim runs as several gunicorn workers and, scaled, as
several replicas on one Redis; a scrape lands on one worker of one replica and must still report the totals of all.
Each worker keeps its counters in memory (a dict increment under an uncontended lock per request: no I/O on the request
path) and overwrites its own document `_metrics/<worker>` with its cumulative totals, at most every FLUSH_SECONDS, from
the webhook dispatcher's background thread. A scrape sums every worker's document, so its numbers lag the other
workers by at most FLUSH_SECONDS (plus the dispatcher's poll); the answering worker's own counts are exact.

Payments by state and webhook attempts by outcome are read at scrape time from the sessions' own documents (the store
is their truth); the sessions to read are those any worker has seen a request for (at most MAX_SESSIONS per worker).
"""

from __future__ import annotations

import bisect
import os
import secrets
import socket
import threading
import time
from collections import Counter
from typing import Any, Iterable

from .. import __version__
from ..storage import Store
from ..domain.payments import STATES as PAYMENT_STATES
from .payments import PAYMENTS_NS
from .sessions import DEFAULT_SESSION, ns
from .webhooks import JOURNAL_NS as WEBHOOKS_NS

METRICS_NS = "_metrics"
FLUSH_SECONDS = 0.5
MAX_SESSIONS = 5000
# Latency buckets in seconds: the simulator answers in milliseconds unless a scenario injects a delay.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNKNOWN = "unknown"
_LABEL_MAX = 64


def _label(value: Any) -> str:
    text = str(value) if value is not None else UNKNOWN
    return text[:_LABEL_MAX] or UNKNOWN


def webhook_outcome(attempt: dict[str, Any]) -> str:
    """delivered | http_error | timeout | connection_error, from one attempt recorded in the webhook journal."""
    error = attempt.get("error")
    if error is None:
        return "delivered"
    text = str(error)
    if text.startswith("timeout"):
        return "timeout"
    if text.startswith("HTTP"):
        return "http_error"
    return "connection_error"


class MetricsService:
    """One per worker process (built by app.build_services); `observe` is called once per answered request."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, str]] = Counter()  # (operation, method, status) -> n
        self._latency: dict[str, list[float]] = {}  # operation -> bucket counts..., sum, count
        self._faults: Counter[tuple[str, str]] = Counter()  # (scenario, rule) -> n
        self._sessions: dict[str, None] = {DEFAULT_SESSION: None}  # insertion-ordered set
        self._dirty = False
        self._flushed = 0.0

    # -- the request path: memory only ------------------------------------------------------------------------------
    def observe(self, operation: str | None, method: str, status: int, seconds: float, fault: str | None,
                session: str | None) -> None:
        op = _label(operation)
        slot = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            self._requests[(op, method, str(status))] += 1
            hist = self._latency.get(op)
            if hist is None:
                hist = self._latency[op] = [0.0] * (len(BUCKETS) + 2)
            hist[slot] += 1  # slot == len(BUCKETS) is the +Inf bucket
            hist[-2] += seconds
            hist[-1] += 1
            if fault:
                for label in fault.split(","):
                    scenario, _, rule = label.strip().partition("/")
                    self._faults[(_label(scenario), _label(rule or None))] += 1
            if session and session not in self._sessions and len(self._sessions) < MAX_SESSIONS:
                self._sessions[session] = None
            self._dirty = True

    # -- persistence ------------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            self._dirty = False
            return {
                "worker": self.worker,
                "requests": [[op, method, status, n] for (op, method, status), n in self._requests.items()],
                "latency": {op: list(hist) for op, hist in self._latency.items()},
                "faults": [[scenario, rule, n] for (scenario, rule), n in self._faults.items()],
                "sessions": list(self._sessions),
            }

    def flush(self, force: bool = False) -> bool:
        """Write this worker's totals if they changed (and FLUSH_SECONDS passed, unless forced); True if written."""
        now = time.monotonic()
        if not self._dirty or (not force and now - self._flushed < FLUSH_SECONDS):
            return False
        self._flushed = now
        self._store.put(METRICS_NS, self.worker, self.snapshot())
        return True

    # -- the scrape -------------------------------------------------------------------------------------------------
    def collect(self) -> dict[str, Any]:
        """Totals over every worker's last flush (this worker's exact), plus what the store says right now."""
        self.flush(force=True)
        requests: Counter[tuple[str, str, str]] = Counter()
        latency: dict[str, list[float]] = {}
        faults: Counter[tuple[str, str]] = Counter()
        sessions: dict[str, None] = {}
        docs = [doc for _, doc in self._store.items(METRICS_NS)]
        if not any(doc.get("worker") == self.worker for doc in docs):
            docs.append(self.snapshot())  # nothing was observed yet, or a reset of everything just removed it
        for doc in docs:
            for op, method, status, n in doc.get("requests", []):
                requests[(op, method, status)] += n
            for op, hist in doc.get("latency", {}).items():
                if len(hist) != len(BUCKETS) + 2:
                    continue  # written by a version with other buckets
                total = latency.setdefault(op, [0.0] * len(hist))
                for i, value in enumerate(hist):
                    total[i] += value
            for scenario, rule, n in doc.get("faults", []):
                faults[(scenario, rule)] += n
            sessions.update(dict.fromkeys(doc.get("sessions", [])))
        payments, attempts = self._from_sessions(sessions)
        return {"requests": requests, "latency": latency, "faults": faults, "payments": payments,
                "webhook_attempts": attempts, "workers": len(docs)}

    def _from_sessions(self, sessions: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
        payments: Counter[str] = Counter()
        attempts: Counter[str] = Counter()
        for session in sessions:
            for _, doc in self._store.items(ns(session, PAYMENTS_NS)):
                payments[_label(doc.get("status"))] += 1
            for _, doc in self._store.items(ns(session, WEBHOOKS_NS)):
                for attempt in doc.get("attempts") or []:
                    attempts[webhook_outcome(attempt)] += 1
        return payments, attempts

    def exposition(self) -> str:
        """The Prometheus text format (version 0.0.4) of `collect()`."""
        data = self.collect()
        out: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")

        family("gosim_build_info", "gauge", "The gosim version answering; always 1.")
        out.append(f'gosim_build_info{{version="{_escape(__version__)}"}} 1')
        family("gosim_metrics_workers", "gauge", "Worker processes whose counters are summed in this answer.")
        out.append(f"gosim_metrics_workers {data['workers']}")

        family("gosim_http_requests_total", "counter", "Answered HTTP requests by operation, method and status.")
        for (op, method, status), n in sorted(data["requests"].items()):
            out.append(f'gosim_http_requests_total{{operation="{_escape(op)}",method="{_escape(method)}",'
                       f'status="{_escape(status)}"}} {_num(n)}')

        family("gosim_http_request_duration_seconds", "histogram", "Time to answer a request, by operation.")
        for op, hist in sorted(data["latency"].items()):
            label = f'operation="{_escape(op)}"'
            running = 0.0
            for bound, count in zip(BUCKETS, hist):
                running += count
                out.append(f'gosim_http_request_duration_seconds_bucket{{{label},le="{bound}"}} {_num(running)}')
            out.append(f'gosim_http_request_duration_seconds_bucket{{{label},le="+Inf"}} {_num(hist[-1])}')
            out.append(f"gosim_http_request_duration_seconds_sum{{{label}}} {hist[-2]:.6f}")
            out.append(f"gosim_http_request_duration_seconds_count{{{label}}} {_num(hist[-1])}")

        family("gosim_faults_injected_total", "counter", "Answers a failure scenario changed, by scenario and rule.")
        for (scenario, rule), n in sorted(data["faults"].items()):
            out.append(f'gosim_faults_injected_total{{scenario="{_escape(scenario)}",rule="{_escape(rule)}"}} {_num(n)}')

        family("gosim_payments", "gauge", "Payments in the store by state (sessions seen by any worker).")
        for state in sorted(set(PAYMENT_STATES) | set(data["payments"])):
            out.append(f'gosim_payments{{state="{_escape(state)}"}} {data["payments"][state]}')

        family("gosim_webhook_attempts_total", "counter",
               "Webhook delivery attempts by outcome, from the webhook journals (a session reset lowers it).")
        for outcome in sorted(set(WEBHOOK_OUTCOMES) | set(data["webhook_attempts"])):
            out.append(f'gosim_webhook_attempts_total{{outcome="{_escape(outcome)}"}} {data["webhook_attempts"][outcome]}')
        out.append("")
        return "\n".join(out)


WEBHOOK_OUTCOMES = ("delivered", "http_error", "timeout", "connection_error")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
