"""Runs the app under gunicorn with uvicorn workers; each worker builds its own app after the fork."""

from __future__ import annotations

import multiprocessing
from typing import Any

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

from .settings import Settings


class _Worker(UvicornWorker):
    """uvicorn under gunicorn, without a WebSocket protocol: gosim serves none, and loading one costs ~20 ms a worker."""

    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "ws": "none"}


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        workers = self.settings.workers or multiprocessing.cpu_count()
        options: dict[str, Any] = {
            "bind": f"[{self.settings.host}]:{self.settings.port}" if ":" in self.settings.host
            else f"{self.settings.host}:{self.settings.port}",
            "workers": workers,
            "worker_class": _Worker,
            "keepalive": 75,
            "backlog": 4096,
            "graceful_timeout": 5,
            "timeout": 60,
            "loglevel": self.settings.log_level,
            # Not preloaded: SQLite handles and random state must not be shared across the fork.
            "preload_app": False,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app
        from .logs import configure

        # In each worker, after gunicorn set up its own loggers: ours get a handler of their own, theirs are untouched.
        configure(self.settings.log_format, self.settings.log_level)
        return create_app(self.settings)


def serve(settings: Settings) -> int:
    from .app import check_settings
    from .spec import load_bundle

    check_settings(settings)  # refuse before forking anything
    # Pure data, safe to share: the specs are read and checked once here, and every forked worker inherits them.
    load_bundle(settings.cache_path)
    if settings.log_format not in ("json", "text", "off"):
        raise SystemExit(f"gosim: GOSIM_LOG_FORMAT={settings.log_format!r}: expected json, text or off")
    _Gunicorn(settings).run()
    return 0
