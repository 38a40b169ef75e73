"""`make bench`: runs every benchmark in bench/ and writes the numbers to docs/performance.md."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import startup  # noqa: E402

HEADER = """# Performance

Measured by `make bench` (see `bench/`); nothing about speed is asserted by tests, because the machines are shared
and noisy. Re-run it to refresh this page: the numbers below are from one run on the machine named here.
"""


def main() -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    sections = [HEADER, f"Run on {datetime.date.today().isoformat()}, {machine}.", ""]
    sections += startup.main()
    sections += ["", "## Reproduce", "", "```sh", "make bench                      # everything, writes this file",
                 ".venv/bin/python bench/startup.py  # start-up and generation only, prints the tables", "```", ""]
    sections += [line for line in (ROOT / "bench" / "NOTES.md").read_text(encoding="utf-8").splitlines()]
    (ROOT / "docs" / "performance.md").write_text("\n".join(sections) + "\n", encoding="utf-8")
    print((ROOT / "docs" / "performance.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
