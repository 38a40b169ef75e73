"""Time-ordered identifiers (UUIDv7 layout) so that payments and events sort by creation in the store."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime


class Uuid7:
    """UUIDv7 with a 12-bit counter in the same millisecond (RFC 9562, method 1), so ids made one after the other in a
    process sort in that order; across processes the milliseconds and 62 random bits keep them unique."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def __call__(self, at: datetime) -> str:
        ms = int(at.timestamp() * 1000)
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                    ms += 1
                    self._counter = 0
            else:
                self._counter = int.from_bytes(os.urandom(1), "big")  # leave room to count up
            self._last_ms = ms
            counter = self._counter
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = ((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
        return str(uuid.UUID(int=value))
