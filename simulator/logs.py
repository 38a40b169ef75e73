"""Logging of the `gosim` loggers: one JSON (or text) line per record on stderr, set up by `gosim serve` in each worker."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

FORMATS = ("json", "text", "off")
ACCESS_LOGGER = "gosim.access"
FIELDS_ATTR = "gosim"  # a record's structured fields: logger.info(msg, extra={"gosim": {...}})
_HANDLER_NAME = "gosim-stderr"


def _time(record: logging.LogRecord) -> str:
    at = datetime.fromtimestamp(record.created, timezone.utc)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...fields}` on one line; non-ASCII kept as is (UTF-8)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": _time(record), "level": record.levelname.lower(), "logger": record.name,
                                "message": record.getMessage()}
        line.update(getattr(record, FIELDS_ATTR, None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)


class TextFormatter(logging.Formatter):
    """`time level logger message key=value ...` for a person reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, FIELDS_ATTR, None) or {}
        extra = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None and v != "")
        text = f"{_time(record)} {record.levelname.lower():7} {record.name} {record.getMessage()}"
        text = f"{text} {extra}" if extra else text
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


def configure(log_format: str, level: str = "warning", stream: Any = None) -> None:
    """Route the `gosim` loggers to stderr in the chosen format; gunicorn's and uvicorn's loggers are left as they are.

    Request lines (`gosim.access`, INFO) are written whatever `level` says, unless the format is `off`;
    `level` (GOSIM_LOG_LEVEL) governs the rest of gosim's records. Idempotent: a second call replaces the handler.
    """
    if log_format not in FORMATS:
        raise ValueError(f"log_format {log_format!r}: expected one of {', '.join(FORMATS)}")
    root = logging.getLogger("gosim")
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    access = logging.getLogger(ACCESS_LOGGER)
    if log_format == "off":
        access.setLevel(logging.CRITICAL + 1)
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.WARNING))
    root.propagate = False  # one line per record, not a second copy through whatever the root logger has
    access.setLevel(logging.INFO)
