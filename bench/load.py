"""Load benchmarks with wrk: gosim against nginx, the raw ASGI ceiling, WireMock and Prism; latency and payment runs.

Run: `make bench` (or `.venv/bin/python bench/load.py` for these tables alone). Installs what is missing: wrk from
Debian (apt-get), Prism (`@stoplight/prism-cli`) and WireMock (the `wiremock` npm package carries the standalone jar)
into bench/.cache with npm. Every server is started on loopback, measured, and stopped before the next one starts;
every wrk run is bounded by -d and every wait by a deadline. Nothing here is asserted by tests.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from support.server import free_port, largest_rss_mib  # noqa: E402

FINE = "18810186987973091146"  # story citizen 1000000001's camera fine: the ~400-byte JSON every server returns
PYTHON = sys.executable
DURATION = int(os.environ.get("GOSIM_BENCH_SECONDS", "10"))  # each measured run
WARMUP = 3
WORKERS = 2


# ---------------------------------------------------------------------------------------------------------- tools


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print("bench: installing wrk from Debian", file=sys.stderr)
    _run([*sudo, "apt-get", "update", "-qq"], timeout=300)
    _run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], timeout=300, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") or "wrk"


def ensure_npm_tools() -> dict[str, Path | None]:
    """Prism's launcher and WireMock's jar from bench/.cache, installed by npm when missing (None when npm fails)."""
    prism = CACHE / "node_modules" / ".bin" / "prism"
    jars = sorted((CACHE / "node_modules" / "wiremock").glob("**/wiremock-standalone-*.jar"))
    if not prism.exists() or not jars:
        npm = shutil.which("npm")
        if npm is None:
            print("bench: npm is missing; Prism and WireMock are left out", file=sys.stderr)
        else:
            CACHE.mkdir(parents=True, exist_ok=True)
            print("bench: installing @stoplight/prism-cli and wiremock into bench/.cache", file=sys.stderr)
            try:
                _run([npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--loglevel", "error",
                      "@stoplight/prism-cli@5", "wiremock@3"], timeout=600)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                print(f"bench: npm install failed: {exc}", file=sys.stderr)
        jars = sorted((CACHE / "node_modules" / "wiremock").glob("**/wiremock-standalone-*.jar"))
    return {"prism": prism if prism.exists() else None, "wiremock": jars[-1] if jars else None,
            "java": Path(shutil.which("java")) if shutil.which("java") else None}


def _raise_nofile() -> None:
    """Children (servers and wrk) get the hard open-file limit: 10 000 connections need 10 000+ descriptors."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.setsid()


# ------------------------------------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    cmd: list[str]
    url: str  # the URL wrk requests
    ready: str  # a URL that answers 2xx/4xx once the server listens
    headers: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] | None = None
    cwd: Path = ROOT
    warmup: int = WARMUP
    process: subprocess.Popen | None = None
    started_in: float = 0.0
    log: Path | None = None

    def start(self, timeout: float = 60) -> "Server":
        self.log = Path(tempfile.mkstemp(prefix=f"bench-{self.name.split()[0]}-", suffix=".log")[1])
        began = time.perf_counter()
        self.process = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdout=self.log.open("wb"),
                                        stderr=subprocess.STDOUT, preexec_fn=_raise_nofile)
        deadline = began + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                httpx.get(self.ready, timeout=0.5, headers=self.headers)
                self.started_in = time.perf_counter() - began
                return self
            except httpx.HTTPError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name} did not start in {timeout}s: {self.log.read_text()[-2000:]}")

    def rss_mib(self) -> float:
        """The largest RSS among the server's processes (a worker, the JVM, node)."""
        pids = [self.process.pid]
        pids += [int(p) for p in subprocess.run(["pgrep", "-s", str(self.process.pid)], capture_output=True,
                                                text=True).stdout.split()]
        return largest_rss_mib(pids)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass


def gosim(workdir: Path, *, name: str = "gosim", extra: list[str] | None = None,
          env: dict[str, str] | None = None, workers: int = WORKERS) -> Server:
    port = free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("GOSIM_")}
    base_env.update({"GOSIM_LOG_LEVEL": "warning", **(env or {})})
    return Server(name, [PYTHON, "-m", "simulator.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                         "--workers", str(workers), "--storage", f"sqlite:///{workdir}/state.db", *(extra or [])],
                  url=f"http://127.0.0.1:{port}/api/v1/fines/{FINE}", ready=f"http://127.0.0.1:{port}/_sim/ready",
                  env=base_env)


def mint(server: Server, scopes: list[str], client_id: str = "demo-bank", oid: int | None = 1000000001) -> str:
    base = server.ready.rsplit("/_sim/", 1)[0]
    body = {"client_id": client_id, "scopes": scopes, "ttl": 86400}
    if oid is not None:
        body["oid"] = oid
    r = httpx.post(f"{base}/_sim/tokens", json=body, timeout=10)
    r.raise_for_status()
    return r.json()["access_token"]


def raw_asgi(body: bytes, workdir: Path) -> Server:
    port = free_port()
    (workdir / "raw_app.py").write_text(
        '"""The Python ceiling: an ASGI callable answering fixed bytes."""\n'
        f"BODY = {body!r}\n"
        "HEADERS = [(b'content-type', b'application/json'), (b'content-length', str(len(BODY)).encode())]\n\n\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n        return\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': HEADERS})\n"
        "    await send({'type': 'http.response.body', 'body': BODY})\n", encoding="utf-8")
    return Server("raw ASGI callable, uvicorn, 2 workers (the Python ceiling)",
                  [PYTHON, "-m", "uvicorn", "raw_app:app", "--host", "127.0.0.1", "--port", str(port), "--workers",
                   str(WORKERS), "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"],
                  url=f"http://127.0.0.1:{port}/api/v1/fines/{FINE}", ready=f"http://127.0.0.1:{port}/", cwd=workdir)


def nginx(body: bytes, workdir: Path) -> Server | None:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        return None
    port = free_port()
    (workdir / "html" / "api" / "v1" / "fines").mkdir(parents=True, exist_ok=True)
    (workdir / "html" / "api" / "v1" / "fines" / FINE).write_bytes(body)
    (workdir / "nginx.conf").write_text(f"""daemon off; worker_processes 2; pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{ access_log off; default_type application/json; keepalive_requests 1000000;
  client_body_temp_path {workdir}; proxy_temp_path {workdir}; fastcgi_temp_path {workdir};
  uwsgi_temp_path {workdir}; scgi_temp_path {workdir};
  server {{ listen 127.0.0.1:{port}; root {workdir}/html; }} }}
""")
    return Server("nginx serving the file (the physical ceiling; wrk-bound)", [binary, "-c", str(workdir / "nginx.conf")],
                  url=f"http://127.0.0.1:{port}/api/v1/fines/{FINE}", ready=f"http://127.0.0.1:{port}/", cwd=workdir)


def wiremock(jar: Path, java: Path, body: bytes, workdir: Path, *, name: str, warmup: int,
             async_delay_ms: int | None = None) -> Server:
    port = free_port()
    (workdir / "mappings").mkdir(parents=True, exist_ok=True)
    response: dict = {"status": 200, "body": body.decode("utf-8"), "headers": {"Content-Type": "application/json"}}
    if async_delay_ms:
        response["fixedDelayMilliseconds"] = async_delay_ms
    (workdir / "mappings" / "fine.json").write_text(json.dumps({
        "request": {"method": "GET", "urlPathPattern": "/api/v1/fines/[0-9]{20}",
                    "headers": {"Authorization": {"matches": "Bearer .+"}}},
        "response": response}, ensure_ascii=False), encoding="utf-8")
    cmd = [str(java), "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1", "--root-dir", str(workdir),
           "--no-request-journal", "--disable-request-logging"]
    if async_delay_ms:
        cmd += ["--async-response-enabled", "true"]
    return Server(name, cmd, url=f"http://127.0.0.1:{port}/api/v1/fines/{FINE}",
                  ready=f"http://127.0.0.1:{port}/__admin/mappings", headers={"Authorization": "Bearer x"},
                  warmup=warmup)


def prism(binary: Path, workdir: Path) -> Server:
    from simulator.spec import load_spec

    port = free_port()
    spec = workdir / "citizen.json"
    spec.write_text(json.dumps(load_spec("citizen"), ensure_ascii=False), encoding="utf-8")
    return Server("Prism 5, `-v warn` (validates the spec, like us)",
                  [str(binary), "mock", str(spec), "-p", str(port), "-h", "127.0.0.1", "-v", "warn"],
                  # Prism serves the spec's paths as written (gosim mounts them under /api/v1).
                  url=f"http://127.0.0.1:{port}/fines/{FINE}", ready=f"http://127.0.0.1:{port}/fines",
                  headers={"Authorization": "Bearer x"})


# ----------------------------------------------------------------------------------------------------------- wrk


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors (connect/read/write/timeout) + non-2xx/3xx answers
    non2xx: int
    raw: str = ""


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, *, seconds: int, connections: int = 64, threads: int = 2, headers: dict[str, str] | None = None,
        script: Path | None = None, timeout_s: int = 10) -> Result:
    cmd = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", f"--timeout", f"{timeout_s}s"]
    for key, value in (headers or {}).items():
        cmd += ["-H", f"{key}: {value}"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + timeout_s + 60,
                         preexec_fn=_raise_nofile).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    sock = sum(int(x) for x in m.groups()) if (m := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)) else 0
    return Result(rps, p50, p99, requests, sock + non2xx, non2xx, out)


def measure(server: Server, *, seconds: int = DURATION) -> dict:
    """Start, warm up, measure once, stop: one fresh-process run of the common load."""
    server.start()
    try:
        if server.warmup:
            wrk(server.url, seconds=server.warmup, headers=server.headers)
        result = wrk(server.url, seconds=seconds, headers=server.headers)
        return {"name": server.name, "rps": result.rps, "p99": result.p99_ms, "errors": result.errors,
                "startup": server.started_in, "rss": server.rss_mib()}
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------------------- runs


def fine_body(workdir: Path) -> tuple[bytes, str]:
    """The bytes gosim answers for the common request (copied verbatim into the peers), and a token for gosim."""
    server = gosim(workdir).start()
    try:
        token = mint(server, ["fines"])
        r = httpx.get(server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        r.raise_for_status()
        return r.content, token
    finally:
        server.stop()


def peers(tools: dict, body: bytes, tmp: Path) -> Iterator[Callable[[], Server]]:
    yield lambda: nginx(body, _fresh(tmp, "nginx"))
    yield lambda: raw_asgi(body, _fresh(tmp, "raw"))
    if tools["wiremock"] and tools["java"]:
        yield lambda: wiremock(tools["wiremock"], tools["java"], body, _fresh(tmp, "wm1"),
                               name="WireMock 3, first minute (JIT cold)", warmup=WARMUP)
        yield lambda: wiremock(tools["wiremock"], tools["java"], body, _fresh(tmp, "wm2"),
                               name="WireMock 3 after a 30 s warm-up (steady state)", warmup=30)
    if tools["prism"]:
        yield lambda: prism(tools["prism"], _fresh(tmp, "prism"))


def _fresh(tmp: Path, name: str) -> Path:
    path = tmp / f"{name}-{time.monotonic_ns()}"
    path.mkdir(parents=True)
    return path


def gosim_fines(tmp: Path, name: str = "gosim, GET /api/v1/fines/{uin}, SQLite, 2 workers",
                env: dict[str, str] | None = None) -> dict:
    server = gosim(_fresh(tmp, "gosim"), name=name, env=env)
    server.start()
    try:
        server.headers = {"Authorization": f"Bearer {mint(server, ['fines'])}"}
        wrk(server.url, seconds=WARMUP, headers=server.headers)
        result = wrk(server.url, seconds=DURATION, headers=server.headers)
        return {"name": name, "rps": result.rps, "p99": result.p99_ms, "errors": result.errors,
                "startup": server.started_in, "rss": server.rss_mib()}
    finally:
        server.stop()


LATENCY_SCENARIO = """\
version: 1
scenarios:
  - name: slow-fines
    rules:
      - match: {operation: GetFine}
        latency: 2s
"""


def latency_run(tmp: Path, connections: int = 10000, seconds: int = 12) -> dict:
    """10 000 connections, each request delayed 2 s by a scenario: how many of the ideal number finish, and p99."""
    work = _fresh(tmp, "latency")
    (work / "slow.yaml").write_text(LATENCY_SCENARIO)
    server = gosim(work, name="gosim latency", extra=["--scenarios", str(work / "slow.yaml")])
    server.start()
    try:
        headers = {"Authorization": f"Bearer {mint(server, ['fines'])}"}
        r = httpx.get(server.url, headers=headers, timeout=10)
        result = wrk(server.url, seconds=seconds, connections=connections, threads=2, headers=headers, timeout_s=8)
        # An ideal server answers every connection every 2 s; requests still in flight at the end are not counted.
        ideal = connections * (seconds // 2)
        return {"connections": connections, "seconds": seconds, "requests": result.requests, "ideal": ideal,
                "share": result.requests / ideal, "p50": result.p50_ms, "p99": result.p99_ms,
                "errors": result.errors, "first_status": r.status_code, "rss": server.rss_mib(), "raw": result.raw}
    finally:
        server.stop()


PAY_SCRIPT = """\
-- One CreatePayment per request, each for the next unpaid charge of the list, with a fresh Idempotency-Key.
local charges = {}
for line in io.lines("%(charges)s") do
  local uin, amount = line:match("(%%d+) (%%d+)")
  charges[#charges + 1] = {uin, amount}
end
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  n = 0
  created, conflict, other = 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer %(token)s"
end
function request()
  local i = n * %(threads)d + id + 1
  n = n + 1
  local c = charges[((i - 1) %% #charges) + 1]
  wrk.headers["Idempotency-Key"] = "bench-" .. id .. "-" .. n
  local body = '{"uin":"' .. c[1] .. '","amount":' .. c[2] ..
    ',"payer":{"name":"Иванов Иван Петрович","inn":"770858813912"},"bank_payment_id":"b' .. id .. '-' .. n .. '"}'
  return wrk.format(nil, nil, nil, body)
end
function response(status, headers, body)
  if status == 201 then created = created + 1 elseif status == 409 then conflict = conflict + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local c, k, o = 0, 0, 0
  for _, t in ipairs(threads) do c = c + t:get("created"); k = k + t:get("conflict"); o = o + t:get("other") end
  io.write(string.format("PAYMENTS created=%%d conflict=%%d other=%%d\\n", c, k, o))
end
"""


def payments_run(tmp: Path, persons: int = 20000, seconds: int = 5) -> dict:
    """POST /api/v1/payments as fast as it goes, every request for a different charge; then list and compare."""
    from simulator.app import build_services
    from simulator.datagen import write_dataset
    from simulator.settings import Settings

    work = _fresh(tmp, "payments")
    write_dataset(42, persons, work / "data")
    # The amount due of every charge as the server will compute it on its first day (memory store, fresh session).
    services = build_services(Settings.from_env({}, storage="memory://", data=str(work / "data")))
    charges = []
    for line in (work / "data" / "persons.jsonl").open(encoding="utf-8"):
        person = json.loads(line)
        for charge in [*person.get("fines", []), *person.get("debts", [])]:
            try:
                _, due, _ = services.citizens.amount_due("default", charge["uin"])
            except Exception:  # noqa: BLE001 (annulled or otherwise unpayable: not in the list)
                continue
            if due > 0:
                charges.append((charge["uin"], due))
    (work / "charges.txt").write_text("".join(f"{u} {a}\n" for u, a in charges))
    server = gosim(work, name="gosim payments", extra=["--data", str(work / "data")])
    server.start(timeout=120)
    try:
        token = mint(server, ["payments"], oid=None)
        script = work / "pay.lua"
        script.write_text(PAY_SCRIPT % {"charges": work / "charges.txt", "token": token, "threads": 2})
        base = server.ready.rsplit("/_sim/", 1)[0]
        result = wrk(f"{base}/api/v1/payments", seconds=seconds, connections=64, headers={}, script=script)
        counts = dict(re.findall(r"(created|conflict|other)=(\d+)", result.raw))
        created = int(counts.get("created", 0))
        listed, cursor = [], None
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
            while True:
                params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
                page = c.get("/api/v1/payments", params=params).json()
                listed += page["items"]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        uins = [p["uin"] for p in listed]
        return {"charges": len(charges), "rps": result.rps, "created": created, "listed": len(listed),
                "conflict": int(counts.get("conflict", 0)), "other": int(counts.get("other", 0)),
                "distinct_uins": len(set(uins)), "p99": result.p99_ms, "requests": result.requests,
                "created_per_s": created / seconds}
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------------------- report


def _table(rows: list[dict], gosim_row: dict) -> list[str]:
    lines = ["| server | req/s | p99 ms | errors | start-up s | RSS MiB | gosim ÷ server |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        ratio = gosim_row["rps"] / row["rps"] if row["rps"] else float("nan")
        rps = f"{row['rps']:,.0f}".replace(",", " ")
        lines.append(f"| {row['name']} | {rps} | {row['p99']:.0f} | {row['errors']} | "
                     f"{row['startup']:.2f} | {row['rss']:.0f} | {ratio:.2f} |")
    return lines


def main() -> list[str]:
    tools = ensure_npm_tools()
    ensure_wrk()
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gosim-bench-") as tmp_name:
        tmp = Path(tmp_name)
        body, _ = fine_body(_fresh(tmp, "probe"))
        rows = []
        for make in peers(tools, body, tmp):
            server = make()
            if server is None:
                continue
            print(f"bench: {server.name}", file=sys.stderr)
            try:
                rows.append(measure(server))
            except Exception as exc:  # noqa: BLE001 (a peer that fails is reported, the rest still runs)
                print(f"bench: {server.name} failed: {exc}", file=sys.stderr)
        print("bench: gosim", file=sys.stderr)
        ours = gosim_fines(tmp)
        rows.append(ours)
        by = {r["name"].split(",")[0].split(" ")[0]: r for r in rows}
        out += ["## Authenticated GET of one fine (wrk -t2 -c64)", "",
                f"One authenticated `GET /api/v1/fines/{FINE}` ({len(body)}-byte JSON; the peers answer gosim's own "
                f"bytes, Prism its spec example), wrk -t2 -c64 -d{DURATION}s after a {WARMUP} s warm-up (30 s for "
                "WireMock's steady state), every server alone on the machine, fresh process, one run each. "
                "RSS: the largest process (one worker / the JVM / node).", ""]
        out += _table(rows, ours)
        out += ["", "### Targets for the fines lookup", ""]
        prism_row = next((r for r in rows if r["name"].startswith("Prism")), None)
        wm_cold = next((r for r in rows if "first minute" in r["name"]), None)
        raw_row = next((r for r in rows if r["name"].startswith("raw ASGI")), None)
        checks = []
        if prism_row:
            checks.append(("throughput ≥ 2 × Prism", ours["rps"] / prism_row["rps"], 2.0))
        if wm_cold:
            checks.append(("throughput ≥ WireMock first minute", ours["rps"] / wm_cold["rps"], 1.0))
            checks.append(("p99 ≤ WireMock first minute (ratio of p99s, lower is better)", ours["p99"] / wm_cold["p99"], None))
        if raw_row:
            checks.append(("throughput ≥ 25 % of the raw ASGI ceiling", ours["rps"] / raw_row["rps"], 0.25))
        out += ["| target | measured | needed | met |", "|---|---:|---:|---|"]
        for label, value, need in checks:
            if need is None:
                out.append(f"| {label} | {value:.2f} | ≤ 1.00 | {'yes' if value <= 1 else 'no'} |")
            else:
                out.append(f"| {label} | {value:.2f} | {need:.2f} | {'yes' if value >= need else 'no'} |")
        print("bench: latency", file=sys.stderr)
        try:
            lat = latency_run(tmp)
            out += ["", "## 10 000 connections, each request delayed 2 s by a latency scenario (2 workers)", "",
                    f"wrk -t2 -c{lat['connections']} -d{lat['seconds']}s --timeout 8s against `GET /api/v1/fines/{{uin}}` "
                    "with the scenario `latency: 2s` on GetFine. An ideal server finishes every "
                    "connection's request every 2 s.", "",
                    "| requests done | ideal | share of ideal (≥ 90 %) | p50 ms | p99 ms (< 2 500) | errors (0) | RSS MiB |",
                    "|---:|---:|---:|---:|---:|---:|---:|",
                    f"| {lat['requests']} | {lat['ideal']} | {lat['share']:.0%} | {lat['p50']:.0f} | {lat['p99']:.0f} | "
                    f"{lat['errors']} | {lat['rss']:.0f} |"]
        except Exception as exc:  # noqa: BLE001
            out += ["", f"Latency run failed: {exc}"]
        print("bench: payments", file=sys.stderr)
        try:
            pay = payments_run(tmp)
            # wrk stops counting at -d while up to 64 requests are in flight; the server still completes those, so
            # "nothing lost" is listed >= 201s counted, "nothing doubled" is one payment per УИН and at most 64 extra.
            intact = pay["listed"] == pay["distinct_uins"] and pay["created"] <= pay["listed"] <= pay["created"] + 64
            out += ["", "## POST /api/v1/payments (2 workers, SQLite)", "",
                    "wrk -t2 -c64 -d5s, every request a CreatePayment for a different charge of a 20 000-person "
                    "generated dataset with its exact amount due and a fresh Idempotency-Key; afterwards every "
                    "payment is listed with ListPayments and compared with the 201s wrk counted (wrk stops counting with up "
                    "to 64 requests in flight, which the server still completes: listed may exceed the 201s by ≤ 64).", "",
                    "| requests/s | 201 Created/s (≥ 1 000) | 201s | listed afterwards | distinct УИНs | 409 | other | p99 ms | none lost or doubled |",
                    "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
                    f"| {pay['rps']:.0f} | {pay['created_per_s']:.0f} | {pay['created']} | {pay['listed']} | "
                    f"{pay['distinct_uins']} | {pay['conflict']} | {pay['other']} | {pay['p99']:.0f} | "
                    f"{'yes' if intact else 'NO'} |"]
        except Exception as exc:  # noqa: BLE001
            out += ["", f"Payments run failed: {exc}"]
    return out


if __name__ == "__main__":
    print("\n".join(main()))
