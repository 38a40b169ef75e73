"""`make soak`: a bounded run of mixed traffic with scenarios on, sampling RSS and open fds of master and workers.

Starts its own gosim (gunicorn, 2 workers, SQLite, a small generated dataset) on a free loopback port, runs client
threads for `--seconds` (SOAK_SECONDS, default 600) and every `--interval` seconds records, for the master and each
worker, the resident set size (VmRSS) and the number of open file descriptors (/proc/<pid>/fd). At the end it prints
a Markdown summary (start / middle / end, least-squares slopes per minute after the first minute and over the second
half) and, with `--doc`, writes it between
the soak markers of docs/reliability.md. The raw samples go to test-artifacts/soak.json.

Traffic, per thread, in a loop (a pool of 15 citizens' tokens per thread, minted once): citizen reads (ListFines,
GetFine, ListDebts, GetMyProfile, ListMyConsents), CreatePayment then CancelPayment (one in ten is checked instead,
which pays the charge), ListPayments, a client_credentials token from /oauth2/token, the journal (/_sim/requests)
and the webhook journal. The soak session
runs a scenario with a 5 % 503 on GetFine, 20 ms latency on ListDebts and every 7th CheckStatus a 504, and every
60 s it is reset (payments, charges and scenarios forgotten, then the scenario is put back): the store is written to
the whole time. Answers the scenario injects are counted as injected; any other 5xx or a dropped connection is an
error, and the run says so.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from simulator.datagen import write_dataset  # noqa: E402
from support.server import child_pids, start_server  # noqa: E402

SESSION = "soak"
BEGIN, END = "<!-- soak:begin -->", "<!-- soak:end -->"
SCENARIO = {
    "name": "soak-faults",
    "description": "Soak: 5 % 503 on GetFine, 20 ms on ListDebts, every 7th CheckStatus 504.",
    "rules": [
        {"name": "fine-503", "match": {"operation": "GetFine"}, "when": {"probability": 0.05}, "status": 503},
        {"name": "debts-slow", "match": {"operation": "ListDebts"}, "latency": {"fixed": "20ms"}},
        {"name": "check-504", "match": {"operation": "CheckStatus"}, "when": {"every": 7}, "status": 504},
    ],
}


# -- process sampling ------------------------------------------------------------------------------------------------
def rss_kib(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sample(master: int, started: float, requests: int) -> dict[str, Any]:
    workers = child_pids(master)
    procs = {"master": master, **{f"worker{i}": pid for i, pid in enumerate(workers)}}
    row: dict[str, Any] = {"t": round(time.monotonic() - started, 1), "requests": requests, "pids": procs}
    for name, pid in procs.items():
        try:
            row[name] = {"rss_kib": rss_kib(pid), "fds": fds(pid)}
        except OSError:
            row[name] = {"rss_kib": 0, "fds": 0}
    row["workers_rss_kib"] = sum(row[n]["rss_kib"] for n in procs if n != "master")
    row["workers_fds"] = sum(row[n]["fds"] for n in procs if n != "master")
    return row


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return 60 * sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


# -- traffic ---------------------------------------------------------------------------------------------------------
class Traffic:
    def __init__(self, url: str, charges: list[dict[str, Any]], citizens: list[int]) -> None:
        self.url = url
        self.charges = charges
        self.citizens = citizens
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.count = 0
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []

    def _token(self, c: httpx.Client, **body: Any) -> dict[str, str]:
        r = c.post("/_sim/tokens", json={"ttl": 86400, **body}, headers={"X-Gosim-Session": SESSION})
        r.raise_for_status()
        return {"X-Gosim-Session": SESSION, "Authorization": f"Bearer {r.json()['access_token']}"}

    def call(self, c: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response | None:
        try:
            r = c.request(method, path, **kw)
        except httpx.HTTPError as exc:
            with self.lock:
                self.count += 1
                self.statuses["no-answer"] += 1
                self.errors.append(f"{method} {path}: {exc!r}")
            return None
        injected = r.headers.get("x-gosim-fault") or "soak-faults" in r.headers.get("x-gosim-scenario", "")
        with self.lock:
            self.count += 1
            self.statuses[f"{r.status_code // 100}xx{' injected' if r.status_code >= 500 and injected else ''}"] += 1
            if r.status_code >= 500 and not injected and r.status_code not in (502, 503, 504):
                self.errors.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
        return r

    def run(self, seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=30) as c:
            bank = self._token(c, client_id="demo-bank", scopes=["payments"])
            # A bank keeps a citizen's token for its lifetime: a fixed pool per thread. (A fresh token per call would
            # only fill each worker's verified-token cache, ~2.4 KB an entry up to its bound of 10 000.)
            pool = rnd.sample(self.citizens, min(15, len(self.citizens)))
            people: dict[int, dict[str, str]] = {}
            loops = 0
            while not self.stop.is_set():
                loops += 1
                oid = rnd.choice(pool)
                if oid not in people:
                    people[oid] = self._token(c, client_id="demo-bank", oid=oid,
                                              scopes=["openid", "fullname", "fines", "debts"])
                person = people[oid]
                self.call(c, "GET", "/api/v1/persons/me", headers=person)
                fines = self.call(c, "GET", "/api/v1/fines?limit=5", headers=person)
                if fines is not None and fines.status_code == 200 and fines.json()["items"]:
                    self.call(c, "GET", f"/api/v1/fines/{fines.json()['items'][0]['uin']}", headers=person)
                self.call(c, "GET", "/api/v1/debts?limit=5", headers=person)
                self.call(c, "GET", "/api/v1/consents", headers=person)
                charge = rnd.choice(self.charges)
                body = {"uin": charge["uin"], "amount": charge["due"], "payer": {"name": "Нагрузка"},
                        "bank_payment_id": f"soak-{uuid.uuid4().hex[:10]}"}
                made = self.call(c, "POST", "/api/v1/payments", json=body,
                                 headers={**bank, "Idempotency-Key": str(uuid.uuid4())})
                if made is not None and made.status_code == 201:
                    pid = made.json()["id"]
                    if loops % 10 == 0:
                        self.call(c, "GET", f"/api/v1/payments/{pid}", headers=bank)
                    else:
                        self.call(c, "POST", f"/api/v1/payments/{pid}/cancel", json={"reason": "soak"}, headers=bank)
                self.call(c, "GET", "/api/v1/payments?limit=10", headers=bank)
                if loops % 5 == 0:
                    self.call(c, "POST", "/oauth2/token", data={"grant_type": "client_credentials", "scope": "payments"},
                              auth=("demo-bank", "demo-bank-secret"))
                    self.call(c, "GET", "/_sim/requests?limit=20", headers={"X-Gosim-Session": SESSION})
                    self.call(c, "GET", "/_sim/webhooks?limit=20", headers={"X-Gosim-Session": SESSION})


def reset_loop(url: str, traffic: Traffic, every: float) -> None:
    with httpx.Client(base_url=url, timeout=30) as c:
        while not traffic.stop.wait(every):
            traffic.call(c, "POST", "/_sim/reset", headers={"X-Gosim-Session": SESSION})
            traffic.call(c, "PUT", f"/_sim/scenarios/{SCENARIO['name']}", json=SCENARIO,
                         headers={"X-Gosim-Session": SESSION})


def payable(url: str, data: Path, limit: int = 400) -> tuple[list[dict[str, Any]], list[int]]:
    people = [json.loads(line) for line in (data / "persons.jsonl").read_text(encoding="utf-8").splitlines()]
    charges, citizens = [], []
    with httpx.Client(base_url=url, timeout=30) as c:
        for person in people:
            if person.get("locked") or person.get("level") != "confirmed":
                continue
            citizens.append(person["oid"])
            if len(charges) >= limit or not (person.get("fines") or person.get("debts")):
                continue
            r = c.post("/_sim/tokens", json={"client_id": "demo-bank", "oid": person["oid"], "scopes": ["fines", "debts"]},
                       headers={"X-Gosim-Session": SESSION})
            h = {"X-Gosim-Session": SESSION, "Authorization": f"Bearer {r.json()['access_token']}"}
            for kind in ("fines", "debts"):
                items = c.get(f"/api/v1/{kind}?limit=100", headers=h).json()["items"]
                charges += [{"uin": i["uin"], "due": i["amount_due"]} for i in items if i["amount_due"] > 0]
    return charges, citizens


# -- summary ---------------------------------------------------------------------------------------------------------
def summarize(samples: list[dict[str, Any]], requests: int, statuses: dict[str, int], errors: list[str],
              seconds: float) -> tuple[list[str], dict[str, Any]]:
    first, middle, last = samples[0], samples[len(samples) // 2], samples[-1]
    # The first minute is warm-up (imports, caches, SQLite page cache, the thread pools): slopes leave it out, and the
    # second half alone says whether what grows has levelled off.
    steady = [s for s in samples if s["t"] >= 60] or samples
    late = samples[len(samples) // 2:]
    series = {
        "master RSS MiB": lambda s: s["master"]["rss_kib"] / 1024,
        "workers RSS MiB (sum)": lambda s: s["workers_rss_kib"] / 1024,
        "master open fds": lambda s: s["master"]["fds"],
        "workers open fds (sum)": lambda s: s["workers_fds"],
    }
    rows = ["| measure | start | middle | end | slope per minute after the first minute | slope per minute, second half |",
            "|---|---:|---:|---:|---:|---:|"]
    slopes = {}
    for name, fn in series.items():
        slope = slope_per_minute([(s["t"], fn(s)) for s in steady])
        slope_late = slope_per_minute([(s["t"], fn(s)) for s in late])
        slopes[name] = {"after_first_minute": slope, "second_half": slope_late}
        rows.append(f"| {name} | {fn(first):.1f} | {fn(middle):.1f} | {fn(last):.1f} | {slope:+.2f} | {slope_late:+.2f} |")
    rate = requests / seconds if seconds else 0
    counted = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    worker_sets = {tuple(sorted(v for k, v in s["pids"].items() if k != "master")) for s in samples}
    lines = [
        f"{len(samples)} samples over {seconds:.0f} s (every {samples[1]['t'] - samples[0]['t']:.0f} s), "
        f"{requests} requests ({rate:.0f}/s): {counted}. Unexpected errors: {len(errors)}. "
        f"Worker processes: {'the same two the whole run' if len(worker_sets) == 1 else f'{len(worker_sets)} different sets (a worker was replaced)'}.",
        "",
        *rows,
    ]
    return lines, {"slopes": slopes, "requests": requests, "statuses": dict(statuses), "errors": errors[:50],
                   "worker_sets": len(worker_sets), "seconds": seconds}


def write_doc(lines: list[str], command: str) -> None:
    doc = ROOT / "docs" / "reliability.md"
    text = doc.read_text(encoding="utf-8")
    block = "\n".join([BEGIN, "", f"Last run: `{command}` on {time.strftime('%Y-%m-%d')}, "
                       f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} when written.", "",
                       *lines, "", END])
    start, end = text.index(BEGIN), text.index(END) + len(END)
    doc.write_text(text[:start] + block + text[end:], encoding="utf-8")


def run(seconds: float, interval: float, threads: int, persons: int = 200) -> tuple[list[str], dict[str, Any], list]:
    with tempfile.TemporaryDirectory(prefix="gosim-soak-") as tmp:
        work = Path(tmp)
        write_dataset(4242, persons, work / "data")
        server = start_server(work, workers=2, args=["--data", str(work / "data")])
        try:
            charges, citizens = payable(server.url, work / "data")
            r = httpx.put(f"{server.url}/_sim/scenarios/{SCENARIO['name']}", json=SCENARIO,
                          headers={"X-Gosim-Session": SESSION}, timeout=30)
            r.raise_for_status()
            traffic = Traffic(server.url, charges, citizens)
            started = time.monotonic()
            samples = [sample(server.process.pid, started, 0)]
            workers = [threading.Thread(target=traffic.run, args=(i,), daemon=True) for i in range(threads)]
            workers.append(threading.Thread(target=reset_loop, args=(server.url, traffic, 60.0), daemon=True))
            for t in workers:
                t.start()
            while time.monotonic() - started < seconds:
                time.sleep(min(interval, max(0.0, seconds - (time.monotonic() - started))))
                samples.append(sample(server.process.pid, started, traffic.count))
            traffic.stop.set()
            for t in workers:
                t.join(timeout=60)
            alive = server.process.poll() is None
            health = httpx.get(f"{server.url}/_sim/health", timeout=10).status_code if alive else 0
        finally:
            server.stop()
    lines, summary = summarize(samples, traffic.count, traffic.statuses, traffic.errors, time.monotonic() - started)
    summary.update(alive=alive, health=health)
    return lines, summary, samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--doc", action="store_true", help="write the summary into docs/reliability.md")
    parser.add_argument("--from-json", metavar="PATH", help="summarize a saved run (test-artifacts/soak.json) instead")
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
        old, samples = saved["summary"], saved["samples"]
        lines, _ = summarize(samples, old["requests"], old["statuses"], old["errors"],
                             old.get("seconds", samples[-1]["t"]))
        print("\n".join(lines))
        if args.doc:
            write_doc(lines, f"make soak SOAK_SECONDS={old.get('seconds', samples[-1]['t']):.0f}")
        return 0
    lines, summary, samples = run(args.seconds, args.interval, args.threads)
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "soak.json").write_text(json.dumps({"summary": summary, "samples": samples}, indent=1), encoding="utf-8")
    print("\n".join(lines))
    print(json.dumps(summary, indent=1)[:2000])
    if args.doc:
        write_doc(lines, f"make soak SOAK_SECONDS={args.seconds:.0f}")
    return 0 if summary["alive"] and summary["health"] == 200 and not summary["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
