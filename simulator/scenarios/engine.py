"""Pure decisions of the scenario engine: does a rule match a call, does it fire, and what happens then."""

from __future__ import annotations

import hashlib
import http
import math
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from statistics import NormalDist
from typing import Any

from .. import errors as e
from .model import Break, Delay, Match, Respond, Rule, Scenario, Throttle

__all__ = [
    "Decision",
    "Facts",
    "Fired",
    "build_error",
    "decide",
    "draw",
    "fires",
    "matches",
    "sample_delay",
    "take_token",
]

Z99 = NormalDist().inv_cdf(0.99)
FAULT_HEADER = "X-Gosim-Fault"


@dataclass(frozen=True)
class Facts:
    """What the engine knows about a call (or a webhook delivery) when it decides."""

    target: str = "request"
    operation: str | None = None
    path: str = "/"
    method: str = "GET"
    client: str | None = None
    event: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # lower-case names, in arrival order
    remote: str | None = None  # the peer address; throttles count anonymous callers by it

    @property
    def caller(self) -> str:
        """Whose token bucket a call draws from: the client id, else the peer address."""
        if self.client:
            return self.client
        return f"ip:{self.remote}" if self.remote else "anonymous"

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


def matches(match: Match, facts: Facts) -> bool:
    if match.target != facts.target:
        return False
    if match.operations and facts.operation not in match.operations:
        return False
    if match.paths and not any(fnmatchcase(facts.path, p) for p in match.paths):
        return False
    if match.path_regex is not None and not match.path_regex.search(facts.path):
        return False
    if match.methods and facts.method not in match.methods:
        return False
    if match.clients and (facts.client is None or not any(fnmatchcase(facts.client, c) for c in match.clients)):
        return False
    if match.events and (facts.event is None or not any(fnmatchcase(facts.event, ev) for ev in match.events)):
        return False
    for name, pattern in match.headers:
        value = facts.header(name)
        if value is None or not fnmatchcase(value, pattern):
            return False
    return True


def draw(seed: int, session: str, scenario: str, rule: int, n: int, purpose: str = "fire") -> float:
    """A uniform number in [0, 1) that depends only on its inputs: the same seed gives the same sequence anywhere."""
    digest = hashlib.blake2b(f"{seed}|{session}|{scenario}|{rule}|{n}|{purpose}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def fires(rule: Rule, count: int, u: float) -> bool:
    """Whether the `count`-th matching call (1-based) fires the rule; `u` is that call's seeded draw."""
    w = rule.when
    if w.every is not None and count % w.every != 0:
        return False
    if w.first is not None and count > w.first:
        return False
    if w.probability is not None and not u < w.probability:
        return False
    return True


def sample_delay(delay: Delay, u: float) -> float:
    if delay.kind == "fixed":
        return delay.a
    if delay.kind == "uniform":
        return delay.a + (delay.b - delay.a) * u
    # Log-normal from median and p99: mu = ln(median), sigma so that the 99th percentile lands on p99.
    sigma = math.log(delay.b / delay.a) / Z99
    z = NormalDist().inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
    return min(delay.a * math.exp(sigma * z), 10 * delay.b)


@dataclass(frozen=True)
class Bucket:
    allowed: bool
    state: dict[str, float]
    remaining: int
    retry_after: int  # seconds until one token is back (0 when allowed)
    reset: int  # seconds until the bucket is full again


def take_token(state: dict[str, Any] | None, now: float, throttle: Throttle) -> Bucket:
    """A token bucket: refill at rate/per, hold at most burst, a call takes one token or is refused."""
    refill = throttle.refill_per_second
    if state is None:
        tokens, at = float(throttle.burst), now
    else:
        tokens, at = float(state["tokens"]), float(state["at"])
    tokens = min(float(throttle.burst), tokens + max(0.0, now - at) * refill)
    allowed = tokens >= 1.0
    if allowed:
        tokens -= 1.0
    retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / refill))
    reset = max(0, math.ceil((throttle.burst - tokens) / refill))
    return Bucket(allowed, {"tokens": round(tokens, 6), "at": now}, int(math.floor(tokens)), retry, reset)


def rate_headers(throttle: Throttle, bucket: Bucket) -> tuple[tuple[str, str], ...]:
    window = max(1, math.ceil(throttle.per))
    return (
        ("RateLimit-Limit", str(throttle.burst)),
        ("RateLimit-Remaining", str(bucket.remaining)),
        ("RateLimit-Reset", str(bucket.reset)),
        ("RateLimit-Policy", f"{throttle.burst};w={window}"),
    )


# --- the decision for one call --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fired:
    scenario: str
    rule: str
    kind: str  # status | latency | break | throttle

    @property
    def label(self) -> str:
        return f"{self.scenario}/{self.rule}"


@dataclass(frozen=True)
class Decision:
    """What the engine does with one call: wait, then answer with an error, break, or let it through (with headers)."""

    delay: float = 0.0
    error: e.GosimError | None = field(default=None, compare=False)
    broken: Break | None = None
    headers: tuple[tuple[str, str], ...] = ()
    fired: tuple[Fired, ...] = ()

    @property
    def passes(self) -> bool:
        return self.error is None and self.broken is None

    @property
    def label(self) -> str:
        return ",".join(f.label for f in self.fired)


@dataclass(frozen=True)
class Evaluated:
    """One matching rule after its counters moved: did it fire, and what its draw or bucket said."""

    scenario: Scenario
    rule: Rule
    fired: bool
    delay: float = 0.0
    bucket: Bucket | None = None
    window_left: float | None = None


def decide(evaluated: list[Evaluated]) -> Decision | None:
    """Latency of every fired rule adds up; the first fired status, break or refused throttle decides the answer."""
    delay = 0.0
    headers: list[tuple[str, str]] = []
    fired: list[Fired] = []
    error: e.GosimError | None = None
    broken: Break | None = None
    for item in evaluated:
        action, rule, name = item.rule.action, item.rule, item.scenario.name
        if isinstance(action, Throttle) and item.bucket is not None:
            if item.bucket.allowed:
                headers.extend(rate_headers(action, item.bucket))
                continue
            if error is None and broken is None:
                fired.append(Fired(name, rule.name, "throttle"))
                error = e.RateLimited(
                    retry_after=item.bucket.retry_after,
                    detail=f"Превышен лимит: {action.rate:g} запросов за {action.per:g} с; повторите позже.",
                    headers={**dict(rate_headers(action, item.bucket)), FAULT_HEADER: f"{name}/{rule.name}"},
                )
            continue
        if not item.fired:
            continue
        if isinstance(action, Delay):
            delay += item.delay
            fired.append(Fired(name, rule.name, "latency"))
        elif error is None and broken is None:
            if isinstance(action, Respond):
                error = build_error(action, label=f"{name}/{rule.name}", window_left=item.window_left)
                fired.append(Fired(name, rule.name, "status"))
            elif isinstance(action, Break):
                broken = action
                fired.append(Fired(name, rule.name, "break"))
    if not fired and not headers:
        return None
    return Decision(delay=delay, error=error, broken=broken, headers=tuple(headers), fired=tuple(fired))


# --- problem bodies -------------------------------------------------------------------------------------------------
_BY_STATUS: dict[int, type[e.GosimError]] = {
    400: e.MalformedRequest, 401: e.TokenInvalid, 403: e.Forbidden, 404: e.NotFound, 405: e.MethodNotAllowed,
    406: e.NotAcceptable, 409: e.Conflict, 413: e.PayloadTooLarge, 415: e.UnsupportedMediaType,
    422: e.ValidationFailed, 429: e.RateLimited, 500: e.InternalError, 502: e.BadGateway,
    503: e.ServiceUnavailable, 504: e.GatewayTimeout,
}
_DEFAULT_RETRY = {429: 1, 503: 30}


def _class_for(code: str | None, status: int) -> type[e.GosimError] | None:
    if code:
        for cls in e.all_error_classes():
            if cls.code == code:
                return cls
        return None
    return _BY_STATUS.get(status)


def _default_code(status: int) -> str:
    try:
        return http.HTTPStatus(status).name
    except ValueError:
        return f"HTTP_{status}"


def build_error(respond: Respond, *, label: str, window_left: float | None = None) -> e.GosimError:
    """A problem answer with the status's usual headers: Retry-After on 429/503, WWW-Authenticate on 401/403."""
    cls = _class_for(respond.code, respond.status)
    status = respond.status
    code = respond.code or (cls.code if cls else _default_code(status))
    title = respond.title or (cls.title if cls else _title(status))
    detail = respond.detail or (cls.detail if cls else f"Симулятор ответил {status} по сценарию отказа.")
    error = e.GosimError(detail)
    # Instance attributes shadow the class ones that body() reads: any status and code, one renderer.
    error.status, error.code, error.title = status, code, title
    headers: dict[str, str] = {}
    retry = respond.retry_after
    if retry is None and status in _DEFAULT_RETRY:
        retry = max(1, math.ceil(window_left)) if window_left else _DEFAULT_RETRY[status]
    if retry is not None:
        headers["Retry-After"] = str(retry)
    if status == 401:
        bearer = getattr(cls, "bearer_error", "invalid_token") if cls else "invalid_token"
        headers["WWW-Authenticate"] = f'Bearer error="{bearer}"'
    elif status == 403 and code == "INSUFFICIENT_SCOPE":
        headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    headers.update(dict(respond.headers))
    headers[FAULT_HEADER] = label
    error.headers = headers
    return error


def _title(status: int) -> str:
    return "Ошибка клиента" if status < 500 else "Ошибка сервера"
