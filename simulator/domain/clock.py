"""Time as the portal sees it: aware UTC instants, the Moscow business date, and ISO 8601 durations."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

__all__ = [
    "MSK",
    "Clock",
    "FixedClock",
    "SimClock",
    "SystemClock",
    "format_duration",
    "parse_duration",
]

# Moscow has had no daylight saving since 2014, so a fixed offset is exact and needs no tz database.
MSK = timezone(timedelta(hours=3), "MSK")


def _require_aware(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got {at!r}")
    return at.astimezone(timezone.utc)


class Clock:
    """Where rules ask for the time; inject one instead of calling datetime.now() so tests can move it."""

    def now(self) -> datetime:
        raise NotImplementedError

    def today(self) -> date:
        # Deadlines (discount window, due dates) are counted in Moscow days: 22:00 UTC is already tomorrow there.
        return self.now().astimezone(MSK).date()


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock(Clock):
    """A clock that only moves when told to, for tests."""

    def __init__(self, at: datetime) -> None:
        self._at = _require_aware(at)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def __repr__(self) -> str:
        return f"FixedClock({self._at.isoformat()})"


class SimClock(Clock):
    """Simulated time: the base clock shifted by an offset, or stopped at `frozen_at` when that is set."""

    def __init__(
        self,
        offset: timedelta = timedelta(0),
        frozen_at: datetime | None = None,
        base: Clock | None = None,
    ) -> None:
        self.offset = offset
        self.frozen_at = None if frozen_at is None else _require_aware(frozen_at)
        self.base = base if base is not None else SystemClock()

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def now(self) -> datetime:
        if self.frozen_at is not None:
            return self.frozen_at
        return self.base.now() + self.offset

    def __repr__(self) -> str:
        return f"SimClock(offset={self.offset!r}, frozen_at={self.frozen_at!r}, base={self.base!r})"


# --- ISO 8601 durations ----------------------------------------------------------------------------------------------

_NUMBER = r"\d+"
_DURATION = re.compile(
    rf"P(?:(?P<years>{_NUMBER})Y)?(?:(?P<months>{_NUMBER})M)?(?:(?P<weeks>{_NUMBER})W)?(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?(?:(?P<seconds>{_NUMBER}(?:[.,]\d+)?)S)?)?",
    re.ASCII,
)


def parse_duration(text: str) -> timedelta:
    """`P21D`, `P2W`, `PT90S`, `P1DT2H`, `PT0.5S` -> timedelta; anything else raises ValueError saying why.

    Years and months are refused: they have no fixed length, and a clock advanced by "P1M" would mean a different
    number of days depending on when it is read. Weeks may be combined with days (`P1W2D`), which is unambiguous.
    """
    if not isinstance(text, str):
        raise ValueError(f"a duration must be an ISO 8601 string such as 'P21D', got {type(text).__name__}")
    if text.startswith("-"):
        raise ValueError(f"negative durations are not allowed: {text!r}; time only moves forward")
    match = _DURATION.fullmatch(text)
    if match is None or text.endswith("T") or match.lastindex is None:
        raise ValueError(f"not an ISO 8601 duration: {text!r}; expected e.g. 'P21D', 'PT90S', 'P1DT2H'")
    parts = match.groupdict()
    if parts["years"] or parts["months"]:
        raise ValueError(f"{text!r}: years and months have no fixed length; use weeks or days, e.g. 'P30D'")
    try:
        return timedelta(
            weeks=int(parts["weeks"] or 0),
            days=int(parts["days"] or 0),
            hours=int(parts["hours"] or 0),
            minutes=int(parts["minutes"] or 0),
            seconds=float((parts["seconds"] or "0").replace(",", ".")),
        )
    except OverflowError:
        raise ValueError(f"duration {text!r} is too long") from None


def format_duration(td: timedelta) -> str:
    """The shortest ISO 8601 form: `P21D`, `PT1M30S`, `P1DT2H`, `PT0.5S`, `PT0S`; negative ones get a leading `-`."""
    if td < timedelta(0):
        return "-" + format_duration(-td)
    hours, rest = divmod(td.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    date_part = f"{td.days}D" if td.days else ""
    time_part = "".join(
        f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M")) if value
    ) + _format_seconds(seconds, td.microseconds)
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + ("T" + time_part if time_part else "")


def _format_seconds(seconds: int, microseconds: int) -> str:
    if not seconds and not microseconds:
        return ""
    if not microseconds:
        return f"{seconds}S"
    return f"{seconds}.{microseconds:06d}".rstrip("0") + "S"
