"""`make bench`: runs every benchmark in bench/ and writes the numbers to docs/performance.md."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402
import startup  # noqa: E402

HEADER = """# Performance

Measured by `make bench` (see `bench/`); nothing about speed is asserted by tests, because the machines are shared
and noisy. Re-run it to refresh this page: the numbers below are from one run on the machine named here.
"""


def main() -> None:
    load1, load5, _ = os.getloadavg()
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
               f"{load1:.1f} / {load5:.1f} (1 / 5 min) when the run began: anything above ~0.5 means other work "
               "shared the cores and every absolute number below is depressed")
    sections = [HEADER, f"Run on {datetime.date.today().isoformat()}, {machine}.", ""]
    sections += load.main()
    sections += [""]
    sections += startup.main()
    sections += ["", "## Reproduce", "", "```sh", "make bench                      # everything, writes this file",
                 ".venv/bin/python bench/startup.py  # start-up and generation only, prints the tables",
                 ".venv/bin/python bench/load.py     # the wrk runs only (GOSIM_BENCH_SECONDS=N per run, default 10)",
                 ".venv/bin/python bench/inproc.py   # CPU per call in process: the measure to A/B a change by",
                 "```", ""]
    sections += [line for line in (ROOT / "bench" / "NOTES.md").read_text(encoding="utf-8").splitlines()]
    (ROOT / "docs" / "performance.md").write_text("\n".join(sections) + "\n", encoding="utf-8")
    print((ROOT / "docs" / "performance.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
