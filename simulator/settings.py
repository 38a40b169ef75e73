"""The one frozen Settings object: defaults, the GOSIM_* environment and overrides; the only reader of os.environ."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

PACKAGE_DIR = Path(__file__).resolve().parent
# A source checkout keeps openapi/ and fixtures/ beside the package; a wheel carries copies inside it.
ROOT_DIR = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "openapi").is_dir() else PACKAGE_DIR


def resource_path(name: str) -> Path:
    """Where a shipped resource folder (openapi, fixtures) lives in this installation."""
    return ROOT_DIR / name


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8380
    workers: int = 0  # 0 = one per core
    storage: str = "sqlite:///.gosim/state.db"
    seed: int = 42
    fixtures: Path = field(default_factory=lambda: resource_path("fixtures"))
    data: Path | None = None  # extra generated dataset (persons.jsonl) on top of the story fixtures
    scenarios: Path | None = None
    public_url: str = ""  # what clients see as the issuer; derived from host/port when empty
    clock_start: datetime | None = None  # simulated time at start; the real time when unset
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 86400
    auth_code_ttl: int = 60
    sms_code_ttl: int = 300
    sms_resend_cooldown: int = 60
    sms_max_attempts: int = 3
    login_lock_seconds: int = 900
    id_token_ttl: int = 10800  # ESIA: exp = iat + 3 h
    login_ttl: int = 1800  # how long a started login (authorize -> code) may take
    max_body_bytes: int = 65536
    body_timeout: int = 10  # seconds a request body may take to arrive (slow or lying Content-Length -> 408)
    validate_responses: bool = False
    fast_path: bool = True  # read-only operations past connexion's own path (simulator/http/fastpath.py)
    admin_token: str = ""
    journal_size: int = 1000
    # Payments (docs/payments.md): when a payment settles, "immediate" | "after_checks:N" | "after:<ISO duration>".
    payment_settlement: str = "after_checks:1"
    idempotency_ttl: int = 86400  # seconds of simulated time an Idempotency-Key is remembered
    # Webhooks: seconds to wait before each retry (the length is the number of retries), per-attempt timeout, poll.
    webhook_retry_schedule: str = "1,2,4,8,16,32,64,128"
    webhook_timeout_ms: int = 5000
    webhook_poll_ms: int = 250
    log_level: str = "warning"
    log_format: str = "json"  # gosim's own log lines under `gosim serve`: json | text | off (simulator/logs.py)
    cache_dir: Path | None = None  # data derived from shipped files, kept across starts; see cache_path

    @property
    def issuer(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def admin_open(self) -> bool:
        return self.host in LOOPBACK_HOSTS and not self.admin_token

    @property
    def cache_path(self) -> Path | None:
        """cache_dir, else ~/.cache/gosim; None when there is no home directory to default to."""
        if self.cache_dir is not None:
            return self.cache_dir
        try:
            return Path.home() / ".cache" / "gosim"
        except RuntimeError:
            return None

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults, then GOSIM_<FIELD> variables, then explicit overrides (CLI flags, tests)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"GOSIM_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, raw)
        values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
        return cls(**values)


_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    if name not in _TYPES:
        raise ValueError(f"unknown setting {name!r}")
    kind = str(_TYPES[name])
    if not isinstance(value, str):
        return Path(value) if "Path" in kind and value is not None and not isinstance(value, Path) else value
    if kind == "int":
        return int(value)
    if kind == "bool":
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"setting {name}: expected a boolean, got {value!r}")
    if "Path" in kind:
        return Path(value)
    if "datetime" in kind:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return value
