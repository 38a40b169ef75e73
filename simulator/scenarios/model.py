"""The scenario rule model: frozen records for match, trigger and action, built from a schema-valid document."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Union

from ..domain.clock import MSK, parse_duration

__all__ = [
    "ACTIONS",
    "Break",
    "Delay",
    "Match",
    "Problem",
    "Respond",
    "Rule",
    "Scenario",
    "Throttle",
    "Trigger",
    "Window",
    "build_scenario",
    "parse_seconds",
]

ACTIONS = ("status", "latency", "break", "throttle")
STATUS_ONLY = ("code", "title", "detail", "retry_after", "headers")
MAX_LATENCY = 600.0  # ten minutes: longer than any client timeout worth testing
MAX_PERIOD = 86400.0
RESERVED_NAMES = frozenset({"presets"})  # /_sim/scenarios/presets is a route of its own

_SHORT_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario document: where (a path of keys and indexes) and what."""

    path: tuple[str | int, ...]
    message: str
    line: int | None = None  # when the path alone cannot tell (a repeated key)


def parse_seconds(value: Any) -> float:
    """A duration: seconds as a number, `250ms`, `2s`, `1.5m`, `1h`, or ISO 8601 `PT2S`; ValueError says why not."""
    if isinstance(value, bool):
        raise ValueError(f"bad duration {value!r}: expected e.g. 250ms, 2s, 1.5m or PT2S")
    if isinstance(value, (int, float)):
        if value < 0 or value != value:  # NaN is not equal to itself
            raise ValueError(f"bad duration {value!r}: must not be negative")
        return float(value)
    if isinstance(value, str):
        short = _SHORT_DURATION.match(value.strip())
        if short:
            return float(short.group(1)) * _UNIT[short.group(2)]
        if value.startswith("P"):
            return parse_duration(value).total_seconds()
    raise ValueError(f"bad duration {value!r}: expected e.g. 250ms, 2s, 1.5m or PT2S")


def _many(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


# --- match ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    """Which calls a rule looks at; every given criterion must hold, an empty match takes every call."""

    target: str = "request"  # "request": calls to gosim; "webhook": deliveries gosim makes to a bank
    operations: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()  # fnmatch globs; `*` also crosses `/`
    path_regex: re.Pattern[str] | None = None
    methods: frozenset[str] = frozenset()
    clients: tuple[str, ...] = ()  # globs over the client id
    events: tuple[str, ...] = ()  # webhook event types (globs), e.g. payment.*
    headers: tuple[tuple[str, str], ...] = ()  # (lower-case name, glob over the value)


# --- trigger --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """A stretch of the session's simulated time: absolute [start, end), or a daily Moscow [from, to) that may wrap."""

    start: datetime | None = None
    end: datetime | None = None
    daily: tuple[time, time | None] | None = None  # None as the end means 24:00

    def contains(self, now: datetime) -> bool:
        if self.start is not None and now < self.start:
            return False
        if self.end is not None and now >= self.end:
            return False
        if self.daily is not None:
            start, end = self.daily
            local = now.astimezone(MSK).time().replace(tzinfo=None)
            if end is None:
                return local >= start
            if start <= end:
                return start <= local < end
            return local >= start or local < end  # e.g. 23:00-02:00
        return True

    def seconds_left(self, now: datetime) -> float | None:
        """How long until the window closes, for Retry-After; None when it never does."""
        candidates: list[float] = []
        if self.end is not None:
            candidates.append((self.end - now).total_seconds())
        if self.daily is not None:
            start, end = self.daily
            local = now.astimezone(MSK)
            end_time = end or time(0, 0)
            closes = local.replace(hour=end_time.hour, minute=end_time.minute, second=0, microsecond=0)
            if closes <= local:
                closes += timedelta(days=1)
            candidates.append((closes - local).total_seconds())
        return min(candidates) if candidates else None


@dataclass(frozen=True)
class Trigger:
    """When a matching call fires the rule; all given conditions must hold. No condition: every matching call."""

    probability: float | None = None
    every: int | None = None
    first: int | None = None
    window: Window | None = None


# --- actions --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Respond:
    """Answer with this status and a problem body instead of calling the handler."""

    status: int
    code: str | None = None
    title: str | None = None
    detail: str | None = None
    retry_after: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Delay:
    """Wait before handling: fixed (a), uniform in [a, b], or log-normal with median a and 99th percentile b."""

    kind: str
    a: float
    b: float = 0.0


@dataclass(frozen=True)
class Break:
    """Break the connection: reset (TCP RST), empty (close with no answer) or truncate (half the body, then close)."""

    mode: str
    after_handler: bool = False  # the handler runs (its side effects stay) and then the answer is lost


@dataclass(frozen=True)
class Throttle:
    """A token bucket per client: `rate` tokens per `per` seconds, holding at most `burst`."""

    rate: float
    per: float = 1.0
    burst: int = 1

    @property
    def refill_per_second(self) -> float:
        return self.rate / self.per


Action = Union[Respond, Delay, Break, Throttle]


@dataclass(frozen=True)
class Rule:
    index: int
    name: str
    match: Match
    when: Trigger
    action: Action

    @property
    def counted(self) -> bool:
        """Whether firing depends on how many matching calls came before, or on a seeded draw."""
        w = self.when
        random_delay = isinstance(self.action, Delay) and self.action.kind != "fixed"
        return w.every is not None or w.first is not None or w.probability is not None or random_delay


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    enabled: bool
    rules: tuple[Rule, ...]
    digest: str = field(default="", compare=False)  # identifies the definition; counters restart when it changes

    @property
    def stateful(self) -> bool:
        return any(r.counted or isinstance(r.action, Throttle) for r in self.rules)


# --- building from a document ---------------------------------------------------------------------------------------
def digest_of(doc: dict[str, Any]) -> str:
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def build_scenario(
    doc: dict[str, Any], *, operations: frozenset[str] | None = None, at: tuple[str | int, ...] = (),
    skip: frozenset[int] = frozenset(),
) -> tuple[Scenario | None, list[Problem]]:
    """A Scenario from a schema-valid document, or the problems the schema cannot express (durations, regexes…).

    ``operations`` is the set of known operation ids; a rule naming another one is refused, because a typo
    would otherwise leave a rule that silently never fires. Rules in ``skip`` (already refused by the schema)
    are left out, so one run reports every problem it can.
    """
    problems: list[Problem] = []
    name = doc["name"]
    if name in RESERVED_NAMES:
        problems.append(Problem((*at, "name"), f"{name!r} is reserved; choose another name"))
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc["rules"]):
        if i in skip:
            continue
        rule = _build_rule(i, raw, operations, (*at, "rules", i), problems)
        if rule is None:
            continue
        if rule.name in seen:
            problems.append(Problem((*at, "rules", i, "name"), f"rule name {rule.name!r} is used twice"))
        seen.add(rule.name)
        rules.append(rule)
    if problems or skip:
        return None, problems
    scenario = Scenario(
        name=name, description=doc.get("description", ""), enabled=doc.get("enabled", True), rules=tuple(rules),
        digest=digest_of(doc),
    )
    return scenario, []


def _build_rule(
    index: int, raw: dict[str, Any], operations: frozenset[str] | None, at: tuple[str | int, ...],
    problems: list[Problem],
) -> Rule | None:
    before = len(problems)
    given = [a for a in ACTIONS if a in raw]
    if len(given) != 1:
        where = at if not given else (*at, given[1])
        problems.append(Problem(where, "a rule needs exactly one action: status, latency, break or throttle"
                                + (f" (got {', '.join(given)})" if given else "")))
    if "status" not in raw:
        for key in STATUS_ONLY:
            if key in raw:
                problems.append(Problem((*at, key), f"{key!r} only goes with 'status'"))
    match = _build_match(raw.get("match") or {}, operations, (*at, "match"), problems)
    when = _build_trigger(raw.get("when") or {}, (*at, "when"), problems)
    action: Action | None = None
    if len(given) == 1:
        action = _build_action(given[0], raw, (*at, given[0]), problems)
    if match is not None and match.target == "webhook" and isinstance(action, (Throttle,)):
        problems.append(Problem((*at, "throttle"), "webhook rules can answer a status, add latency or break; not throttle"))
    if match is not None and match.target == "webhook" and isinstance(action, Break) and action.mode == "truncate":
        problems.append(Problem((*at, "break"), "a webhook delivery can be reset or left empty, not truncated"))
    if len(problems) > before or match is None or when is None or action is None:
        return None
    return Rule(index=index, name=raw.get("name") or f"rule-{index + 1}", match=match, when=when, action=action)


def _build_match(
    raw: dict[str, Any], operations: frozenset[str] | None, at: tuple[str | int, ...], problems: list[Problem]
) -> Match | None:
    before = len(problems)
    target = raw.get("target", "request")
    ops = _many(raw.get("operation"))
    if target == "webhook":
        for key in ("operation", "path", "path_regex", "method", "header"):
            if key in raw:
                problems.append(Problem((*at, key), f"webhook rules match by client and event, not by {key}"))
    else:
        if "event" in raw:
            problems.append(Problem((*at, "event"), "'event' needs target: webhook"))
        if operations is not None:
            for i, op in enumerate(ops):
                if op not in operations:
                    close = _closest(op, operations)
                    hint = f"; did you mean {close!r}?" if close else ""
                    where = (*at, "operation") if isinstance(raw.get("operation"), str) else (*at, "operation", i)
                    problems.append(Problem(where, f"unknown operationId {op!r}{hint}"))
    regex = None
    if "path_regex" in raw:
        try:
            regex = re.compile(raw["path_regex"])
        except re.error as exc:
            problems.append(Problem((*at, "path_regex"), f"bad regular expression: {exc}"))
    for i, path in enumerate(_many(raw.get("path"))):
        if not path.startswith(("/", "*")):
            where = (*at, "path") if isinstance(raw.get("path"), str) else (*at, "path", i)
            problems.append(Problem(where, f"path pattern {path!r} must start with '/' or '*'"))
    if len(problems) > before:
        return None
    return Match(
        target=target,
        operations=frozenset(ops),
        paths=_many(raw.get("path")),
        path_regex=regex,
        methods=frozenset(_many(raw.get("method"))),
        clients=_many(raw.get("client")),
        events=_many(raw.get("event")),
        headers=tuple((k.lower(), v) for k, v in (raw.get("header") or {}).items()),
    )


def _closest(word: str, choices: frozenset[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(choices), n=1)
    return found[0] if found else None


def _build_trigger(raw: dict[str, Any], at: tuple[str | int, ...], problems: list[Problem]) -> Trigger | None:
    window = None
    if "window" in raw:
        window = _build_window(raw["window"], (*at, "window"), problems)
        if window is None:
            return None
    return Trigger(probability=raw.get("probability"), every=raw.get("every"), first=raw.get("first"), window=window)


def _instant(text: str, at: tuple[str | int, ...], problems: list[Problem]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        problems.append(Problem(at, f"bad date-time {text!r}: expected ISO 8601, e.g. 2026-03-02T01:00:00+03:00"))
        return None
    if moment.tzinfo is None:
        problems.append(Problem(at, f"date-time {text!r} needs a UTC offset, e.g. +03:00 or Z"))
        return None
    return moment.astimezone(timezone.utc)


def _build_window(raw: dict[str, Any], at: tuple[str | int, ...], problems: list[Problem]) -> Window | None:
    before = len(problems)
    start = _instant(raw["from"], (*at, "from"), problems) if "from" in raw else None
    end = _instant(raw["to"], (*at, "to"), problems) if "to" in raw else None
    if start is not None and end is not None and end <= start:
        problems.append(Problem((*at, "to"), "'to' must be later than 'from'"))
    daily = None
    if "daily" in raw:
        first, second = raw["daily"].split("-")
        h1, m1 = (int(x) for x in first.split(":"))
        h2, m2 = (int(x) for x in second.split(":"))
        if h2 == 24 and m2 != 0:
            problems.append(Problem((*at, "daily"), "the end of a daily window is at most 24:00"))
        elif (h1, m1) == (h2 % 24, m2):
            problems.append(Problem((*at, "daily"), "a daily window needs different start and end times"))
        else:
            daily = (time(h1, m1), None if h2 == 24 else time(h2, m2))
    if len(problems) > before:
        return None
    return Window(start=start, end=end, daily=daily)


def _seconds(value: Any, at: tuple[str | int, ...], problems: list[Problem], limit: float) -> float | None:
    try:
        seconds = parse_seconds(value)
    except ValueError as exc:
        problems.append(Problem(at, str(exc)))
        return None
    if seconds > limit:
        problems.append(Problem(at, f"duration {value!r} is longer than the limit of {int(limit)} s"))
        return None
    return seconds


def _build_action(kind: str, raw: dict[str, Any], at: tuple[str | int, ...], problems: list[Problem]) -> Action | None:
    value = raw[kind]
    if kind == "status":
        return Respond(
            status=value, code=raw.get("code"), title=raw.get("title"), detail=raw.get("detail"),
            retry_after=raw.get("retry_after"), headers=tuple((raw.get("headers") or {}).items()),
        )
    if kind == "latency":
        return _build_delay(value, at, problems)
    if kind == "break":
        if isinstance(value, str):
            return Break(mode=value, after_handler=value == "truncate")
        mode = value["mode"]
        after = bool(value.get("after_handler", mode == "truncate"))
        if mode == "truncate" and not after:
            problems.append(Problem((*at, "after_handler"), "truncate cuts the handler's answer, so it always runs it"))
            return None
        return Break(mode=mode, after_handler=after)
    per = _seconds(value.get("per", 1), (*at, "per"), problems, MAX_PERIOD)
    if per is None:
        return None
    if per <= 0:
        problems.append(Problem((*at, "per"), "'per' must be longer than zero"))
        return None
    rate = float(value["rate"])
    return Throttle(rate=rate, per=per, burst=int(value.get("burst", max(1, round(rate)))))


def _build_delay(value: Any, at: tuple[str | int, ...], problems: list[Problem]) -> Delay | None:
    if not isinstance(value, dict):
        seconds = _seconds(value, at, problems, MAX_LATENCY)
        return None if seconds is None else Delay("fixed", seconds)
    keys = frozenset(value)
    shapes = {frozenset({"fixed"}): "fixed", frozenset({"min", "max"}): "uniform", frozenset({"median", "p99"}): "lognormal"}
    kind = shapes.get(keys)
    if kind is None:
        problems.append(Problem(at, "latency is one of: a duration, {fixed}, {min, max} or {median, p99}"))
        return None
    parsed = {k: _seconds(v, (*at, k), problems, MAX_LATENCY) for k, v in value.items()}
    if any(v is None for v in parsed.values()):
        return None
    if kind == "fixed":
        return Delay("fixed", parsed["fixed"])  # type: ignore[arg-type]
    if kind == "uniform":
        low, high = parsed["min"], parsed["max"]
        if high < low:  # type: ignore[operator]
            problems.append(Problem((*at, "max"), "'max' must not be less than 'min'"))
            return None
        return Delay("uniform", low, high)  # type: ignore[arg-type]
    median, p99 = parsed["median"], parsed["p99"]
    if not 0 < median < p99:  # type: ignore[operator]
        problems.append(Problem((*at, "p99"), "a latency distribution needs 0 < median < p99"))
        return None
    return Delay("lognormal", median, p99)  # type: ignore[arg-type]
