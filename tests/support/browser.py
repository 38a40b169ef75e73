"""Headless Chromium for the browser tests: Debian's binary driven by Playwright, with this machine's flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling hosts this closed network refuses.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS_ROOT = Path(__file__).resolve().parents[2] / "test-artifacts"


def require_chromium():
    """The playwright sync API, or a skip (a failure under CI, where scripts/system-deps.sh must have installed it)."""
    if not CHROMIUM.exists():
        message = "Chromium is not installed at /usr/bin/chromium (run scripts/system-deps.sh as root)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def artifacts(name: str) -> Path:
    return ARTIFACTS_ROOT / name
