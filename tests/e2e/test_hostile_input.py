"""Hostile input against a real 2-worker server: every case is a 4xx problem (or a closed connection), no state moves.

Where HTTP itself is broken (a non-numeric, negative or doubled Content-Length, Content-Length with chunked, a bad
chunk, a request line of 200 KB, TLS bytes on the plain port) uvicorn's protocol layer answers
`400 text/plain "Invalid HTTP request received."` and closes the connection before gosim sees the request; those
cases assert exactly that. Everything that reaches gosim gets an RFC 9457 problem body with a stable code.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from contextlib import nullcontext  # `with nullcontext(server.http) as c`: the module's one client
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from support.oauth import Login, alert, form
from support.payments import CAMERA_FINE, DUE, PLAIN_FINE, live_headers, new_key, payment_body
from support.server import LiveServer, start_server

pytestmark = pytest.mark.e2e

BODY_TIMEOUT = 2  # GOSIM_BODY_TIMEOUT of this module's server: how long a body may take to arrive
SCRIPT = "<script>alert(1)</script>"
SQL = "'; DROP TABLE kv; --"
GOOD = payment_body()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    srv = start_server(tmp_path_factory.mktemp("hostile"), workers=2,
                       extra_env={"GOSIM_BODY_TIMEOUT": str(BODY_TIMEOUT)})
    srv.http = srv.client()  # one client for the whole module: creating one costs more than a call
    try:
        yield srv
    finally:
        srv.http.close()
        srv.stop()


@pytest.fixture(scope="module")
def victim(server) -> str:
    """The session every hostile call aims at; it holds one real payment so that "unchanged" means something."""
    session = f"victim-{uuid.uuid4().hex[:8]}"
    with nullcontext(server.http) as c:
        bank = live_headers(c, session)
        r = c.post("/api/v1/payments", json=payment_body(), headers={**bank, "Idempotency-Key": new_key()})
        assert r.status_code == 201, r.text
    return session


@pytest.fixture(scope="module")
def bank(server, victim) -> dict[str, str]:
    with nullcontext(server.http) as c:
        return live_headers(c, victim)


@pytest.fixture(scope="module")
def citizen(server, victim) -> dict[str, str]:
    with nullcontext(server.http) as c:
        return live_headers(c, victim, scopes=["fines"], oid=1000000001)


def _state(server: LiveServer, bank: dict, citizen: dict) -> tuple:
    with nullcontext(server.http) as c:
        payments = c.get("/api/v1/payments?limit=100", headers=bank)
        fine = c.get(f"/api/v1/fines/{CAMERA_FINE}", headers=citizen)
    assert payments.status_code == fine.status_code == 200, (payments.text, fine.text)
    f = fine.json()
    return payments.json(), (f["status"], f["paid_amount"], f["amount_due"], f.get("quittance"))


@pytest.fixture(autouse=True)
def unchanged(server, bank, citizen) -> Iterator[None]:
    """After every hostile call: both workers still answer, and the victim's payments and charge did not move."""
    before = _state(server, bank, citizen)
    yield
    assert server.process.poll() is None, "the server died"
    with nullcontext(server.http) as c:
        assert c.get("/_sim/health").status_code == 200
    assert _state(server, bank, citizen) == before


def assert_problem(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if code:
        assert body["code"] == code, body
    return body


def post_raw(server: LiveServer, bank: dict, raw: bytes, content_type: str = "application/json",
             **headers: str) -> httpx.Response:
    with nullcontext(server.http) as c:
        return c.post("/api/v1/payments", content=raw,
                      headers={**bank, "Idempotency-Key": new_key(), "Content-Type": content_type, **headers})


# -- raw HTTP --------------------------------------------------------------------------------------------------------
@dataclass
class RawAnswer:
    status: int | None  # None: the connection closed (or timed out) without an answer
    headers: dict[str, str]
    body: bytes
    closed: bool
    seconds: float

    def problem(self) -> dict:
        assert self.headers.get("content-type", "").startswith("application/problem+json"), self
        return json.loads(self.body)


def send_raw(server: LiveServer, chunks: list[bytes] | bytes, *, pause: float = 0.0, timeout: float = 10) -> RawAnswer:
    """Writes the bytes as they are (httpx refuses to send most of these), then reads until the server closes."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        for chunk in [chunks] if isinstance(chunks, bytes) else chunks:
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server already answered and closed
            time.sleep(pause)
        data = b""
        closed = False
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    closed = True
                    break
                data += got
                if _complete(data):
                    # Read a little longer: a server that closes does so right after the answer.
                    s.settimeout(0.5)
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
    seconds = time.monotonic() - started
    if not data:
        return RawAnswer(None, {}, b"", closed, seconds)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return RawAnswer(int(lines[0].split()[1]), headers, body, closed, seconds)


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def http_request(method: str, path: str, bank: dict, body: bytes = b"", *, content_length: bytes | None = None,
                 extra: list[tuple[bytes, bytes]] = (), close: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    lines += [f"{k}: {v}".encode() for k, v in bank.items()]
    lines += [b"Idempotency-Key: " + new_key().encode(), b"Content-Type: application/json"]
    if content_length is not False:
        lines.append(b"Content-Length: " + (str(len(body)).encode() if content_length is None else content_length))
    lines += [k + b": " + v for k, v in extra]
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


GOOD_RAW = json.dumps(GOOD, ensure_ascii=False).encode()


# -- bodies of the wrong type and shape ------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"[]", b'"payment"', b"5", b"true", b"{}", b"[" + GOOD_RAW + b"]"],
                         ids=["array", "string", "number", "bool", "empty-object", "wrapped"])
def test_a_body_of_the_wrong_type_is_a_422_validation_failed(server, bank, raw):
    assert_problem(post_raw(server, bank, raw), 422, "VALIDATION_FAILED")


@pytest.mark.parametrize("raw", [b"", b"null", b"   "], ids=["empty", "null", "blank"])
def test_a_missing_body_is_a_422_that_names_the_body(server, bank, raw):
    body = assert_problem(post_raw(server, bank, raw), 422, "VALIDATION_FAILED")
    assert body["errors"] == [{"field": "(body)", "message": "is required"}]


@pytest.mark.parametrize("field, value", [
    ("uin", int(CAMERA_FINE)), ("uin", None), ("uin", [CAMERA_FINE]), ("uin", f"{CAMERA_FINE}{SQL}"),
    ("payer", "Иванов"), ("payer", None), ("payer", {"name": ""}), ("payer", {"name": "X", "inn": {"$gt": ""}}),
    ("bank_payment_id", ["a"]), ("bank_payment_id", SQL), ("bank_payment_id", "..\\\\..\\\\boot.ini"),
    ("bank_payment_id", "x" * 65), ("callback_url", f"javascript:{SCRIPT}"), ("callback_url", "file:///etc/passwd"),
    ("surprise", 1),
])
def test_a_field_of_the_wrong_type_or_form_is_named_in_a_422(server, bank, field, value):
    body = assert_problem(post_raw(server, bank, json.dumps({**GOOD, field: value}).encode()), 422, "VALIDATION_FAILED")
    assert any(e["field"].split(".")[0] == field for e in body.get("errors", [])), body


# -- kopecks: negative, zero, fractional, huge, not numbers ----------------------------------------------------------
@pytest.mark.parametrize("amount", [
    b"-25000", b"0", b"-0", b"250.5", b"25000.0", b"2.5e4", b"25000.0000000001", b"1e-7", b"1e400", b"-1e400",
    b"100000000001", b"9" * 300, b"-" + b"9" * 300, b'"25000"', b"true", b"null", b"[25000]", b'{"rub": 250}',
], ids=lambda a: a.decode() if len(a) < 20 else f"{len(a)}-digits")
def test_an_amount_that_is_not_a_positive_whole_number_of_kopecks_is_a_422(server, bank, amount):
    raw = GOOD_RAW.replace(b'"amount": 25000', b'"amount": ' + amount)
    assert raw != GOOD_RAW
    body = assert_problem(post_raw(server, bank, raw), 422, "VALIDATION_FAILED")
    assert {e["field"] for e in body["errors"]} == {"amount"}


@pytest.mark.parametrize("amount", [b"NaN", b"Infinity", b"-Infinity", b"9" * 5000, b"0x61A8", b"025000", b"+25000"],
                         ids=lambda a: a.decode() if len(a) < 20 else f"{len(a)}-digits")
def test_an_amount_that_is_not_json_at_all_is_a_400_malformed_json(server, bank, amount):
    raw = GOOD_RAW.replace(b'"amount": 25000', b'"amount": ' + amount)
    assert_problem(post_raw(server, bank, raw), 400, "MALFORMED_JSON")


def test_a_right_typed_but_wrong_amount_is_a_422_amount_mismatch_naming_the_due_amount(server, bank):
    wrong = payment_body(uin=PLAIN_FINE, amount=DUE[PLAIN_FINE] + 1)
    body = assert_problem(post_raw(server, bank, json.dumps(wrong).encode()), 422, "AMOUNT_MISMATCH")
    assert body["expected_amount"] == DUE[PLAIN_FINE]


# -- JSON that is deep, duplicated, or not text ----------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    b"[" * 30_000 + b"]" * 30_000,  # deep, yet under the 64 KB limit
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    GOOD_RAW[:-1] + b', "payer": ' + b'{"n":' * 40 + b"1" + b"}" * 40 + b"}",
], ids=["arrays-30k", "objects-10k", "deep-in-a-field"])
def test_deeply_nested_json_is_a_400_malformed_json(server, bank, raw):
    assert_problem(post_raw(server, bank, raw), 400, "MALFORMED_JSON")


@pytest.mark.parametrize("raw", [
    b'{"uin": "%s", "amount": 25000, "amount": 1, "payer": {"name": "X"}, "bank_payment_id": "b1"}' % CAMERA_FINE.encode(),
    b'{"uin": "%s", "amount": 25000, "payer": {"name": "X", "name": "Y"}, "bank_payment_id": "b1"}' % CAMERA_FINE.encode(),
], ids=["top-level", "nested"])
def test_duplicate_json_keys_are_a_400_rather_than_a_guess(server, bank, raw):
    assert "повторяется" in assert_problem(post_raw(server, bank, raw), 400, "MALFORMED_JSON")["detail"]


@pytest.mark.parametrize("raw", [
    GOOD_RAW.replace(b"bank-", b"bank-\x00"),  # a raw NUL byte
    GOOD_RAW.replace("Иванов".encode(), b"\xff\xfe\xfd"),  # not UTF-8
    GOOD_RAW.replace("Иванов".encode(), "Иванов".encode("cp1251")),  # the classic: Windows-1251
    json.dumps(GOOD).encode("utf-16"),
    b"\xef\xbb\xbf" + GOOD_RAW,  # a UTF-8 byte order mark
    GOOD_RAW.replace("Иванов".encode(), b"\\ud800"),  # a lone surrogate: once a 500 (could not be hashed)
    GOOD_RAW.replace("Иванов".encode(), b"\\udfff\\ud800"),  # surrogates the wrong way round
    GOOD_RAW[: len(GOOD_RAW) // 2],  # cut in the middle
], ids=["nul", "latin-junk", "cp1251", "utf-16", "bom", "lone-surrogate", "reversed-surrogates", "truncated"])
def test_bytes_that_are_not_clean_utf8_json_text_are_a_400_malformed_json(server, bank, raw):
    assert_problem(post_raw(server, bank, raw), 400, "MALFORMED_JSON")


@pytest.mark.parametrize("raw, field", [
    (GOOD_RAW.replace("Иванов".encode(), b"\\u0000"), "payer.name"),
    (GOOD_RAW.replace(b'"bank-', b'"bank-\\u0000'), "bank_payment_id"),
    (GOOD_RAW.replace(b'"payer": {', b'"payer": {"x\\u0000": 1, '), "payer.x\\u0000"),
], ids=["in-a-value", "in-an-id", "in-a-key"])
def test_an_escaped_nul_is_a_422_naming_the_field(server, bank, raw, field):
    body = assert_problem(post_raw(server, bank, raw), 422, "VALIDATION_FAILED")
    assert body["errors"] == [{"field": field, "message": "must not contain NUL (\\u0000)"}]


def test_a_refused_lone_surrogate_still_shows_in_the_journal(server, bank, victim):
    marker = f"surrogate-{uuid.uuid4().hex[:6]}"
    raw = GOOD_RAW.replace("Иванов".encode(), b"\\ud800").replace(b'"bank-', f'"{marker}-'.encode())
    assert_problem(post_raw(server, bank, raw), 400, "MALFORMED_JSON")
    with nullcontext(server.http) as c:
        journal = c.get("/_sim/requests", params={"operation": "CreatePayment", "status": "400"},
                        headers={"X-Gosim-Session": victim}).json()
    assert any(marker in json.dumps(e["request"]["body"], ensure_ascii=False) for e in journal["items"]), journal


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/xml", "application/json-patch+json"])
def test_a_body_that_is_not_declared_json_is_a_415(server, bank, content_type):
    assert_problem(post_raw(server, bank, GOOD_RAW, content_type=content_type), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_a_body_over_64_kb_is_a_413_and_so_is_a_chunked_one(server, bank):
    big = json.dumps({**GOOD, "payer": {"name": "x" * 70_000}}).encode()
    assert_problem(post_raw(server, bank, big), 413, "PAYLOAD_TOO_LARGE")
    with nullcontext(server.http) as c:
        r = c.post("/api/v1/payments", content=iter([big[:40_000], big[40_000:]]),
                   headers={**bank, "Idempotency-Key": new_key(), "Content-Type": "application/json"})
    assert_problem(r, 413, "PAYLOAD_TOO_LARGE")


# -- ids, paths and queries ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/api/v1/payments/..%2F..%2F..%2Fetc%2Fpasswd", "/api/v1/payments/%2e%2e", "/api/v1/payments/%2e%2e%2f%2e%2e",
    "/api/v1/payments/..%5C..%5Cwindows", "/api/v1/payments/x%00y", "/api/v1/payments/%27%20OR%201%3D1--",
    "/api/v1/payments/" + "a" * 10_000, "/api/v1/payments/%3Cscript%3E", "/api/v1/payments/%ff%fe",
    "/api/v1/payments/..%2F..%2F_sim%2Freset/cancel", "/api/v1/payments/%2e%2e/receipt",
    "/api/v1/fines/..%2F..%2Fetc%2Fpasswd", "/api/v1/fines/1881%27--",
], ids=lambda path: path if len(path) < 60 else f"{path[:30]}...({len(path)} chars)")
def test_path_traversal_and_injection_in_ids_are_4xx_problems(server, bank, path):
    with nullcontext(server.http) as c:
        r = c.request("POST" if path.endswith("/cancel") else "GET", path, headers=bank)
    assert r.status_code in (400, 401, 403, 404), (path, r.status_code, r.text[:300])
    assert_problem(r, r.status_code)


@pytest.mark.parametrize("path", [b"/api/v1/payments/../../../etc/passwd", b"/api/v1/../../_sim/reset",
                                  b"/_sim/scenarios/../../../etc/passwd", b"//api/v1/payments", b"/api/v1/payments/./."])
def test_literal_dot_segments_sent_raw_never_escape_the_api(server, bank, path):
    answer = send_raw(server, http_request("GET" if b"reset" not in path else "POST", path.decode(), bank))
    assert answer.status in (400, 404, 405), answer
    assert answer.problem()["status"] == answer.status


@pytest.mark.parametrize("query", [
    "uin=" + "1" * 20_000, "uin=' OR '1'='1", f"uin={CAMERA_FINE}%00", "status=" + SCRIPT, "limit=1e400",
    "limit=-1", "limit=99999999999999999999999", "cursor=../../etc", "&".join(f"p{i}=1" for i in range(3000)),
    "uin=%ff%fe", "status=" + "x" * 5000,
], ids=lambda query: query if len(query) < 60 else f"{query[:20]}...({len(query)} chars)")
def test_hostile_query_strings_are_a_400(server, bank, query):
    with nullcontext(server.http) as c:
        r = c.get(f"/api/v1/payments?{query}", headers=bank)
    assert_problem(r, 400)


def test_a_request_line_of_200_kb_is_refused_by_the_http_layer(server):
    answer = send_raw(server, b"GET /_sim/health?" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (answer.status, answer.closed) == (400, True)  # uvicorn's own text/plain answer: HTTP itself is broken


# -- headers ---------------------------------------------------------------------------------------------------------
def test_a_70_kb_unrelated_header_is_ignored_and_huge_credentials_are_refused(server, bank):
    with nullcontext(server.http) as c:
        assert c.get("/_sim/health", headers={"X-Padding": "a" * 70_000}).status_code == 200
        assert_problem(c.get("/api/v1/payments", headers={**bank, "Authorization": "Bearer " + "e" * 60_000}),
                       401, "TOKEN_INVALID")
        assert_problem(c.get("/api/v1/payments", headers={**bank, "X-Gosim-Session": "s" * 10_000}),
                       400, "INVALID_PARAMETER")
        r = c.post("/api/v1/payments", json=GOOD, headers={**bank, "Idempotency-Key": "k" * 10_000})
        assert r.status_code in (400, 422) and assert_problem(r, r.status_code)["code"] in (
            "INVALID_PARAMETER", "VALIDATION_FAILED")
        r = c.get("/api/v1/payments", headers={**bank, **{f"X-Junk-{i}": "v" * 100 for i in range(500)}})
        assert r.status_code == 200


@pytest.mark.parametrize("name, value, status", [
    (b"X-Gosim-Session", b"\xd1\x81\xd0\xb5\xd1\x81\xd1\x81\xd0\xb8\xd1\x8f", 400),  # "сессия" in UTF-8
    (b"X-Gosim-Session", b"../../etc", 400),
    (b"Idempotency-Key", b"\xff\xfe", 400),
    (b"Idempotency-Key", b"key with spaces", 400),
    (b"Idempotency-Key", b"k" * 256, 400),
    (b"X-Gosim-Settlement", b"after:P99999999999999W", 422),  # matches the pattern, fails the rule
    (b"X-Gosim-Settlement", SCRIPT.encode(), 400),
])
def test_non_ascii_and_malformed_header_values_are_4xx_problems(server, bank, name, value, status):
    own = {k: v for k, v in bank.items() if k.lower() != name.decode().lower()}
    raw = http_request("POST", "/api/v1/payments", own, GOOD_RAW, extra=[(name, value)])
    raw = raw.replace(b"Idempotency-Key: ", b"X-Ignored: ", 1) if name == b"Idempotency-Key" else raw
    answer = send_raw(server, raw)
    assert answer.status == status, answer
    assert answer.problem()["status"] == answer.status


def test_a_bad_authorization_header_in_latin1_bytes_is_a_401(server, bank):
    own = {k: v for k, v in bank.items() if k != "Authorization"}
    answer = send_raw(server, http_request("GET", "/api/v1/payments", own, extra=[(b"Authorization", b"Bearer \xff\xfe\x00")]))
    if answer.status is None:  # a NUL in a header is broken HTTP: the connection is closed without an answer
        assert answer.closed
        return
    assert answer.status in (400, 401), answer


# -- Content-Length that lies, and bodies that never finish ----------------------------------------------------------
def test_a_content_length_shorter_than_the_body_reads_a_truncated_body_and_closes(server, bank):
    answer = send_raw(server, http_request("POST", "/api/v1/payments", bank, GOOD_RAW,
                                           content_length=str(len(GOOD_RAW) - 10).encode()))
    assert answer.status == 400 and answer.problem()["code"] == "MALFORMED_JSON"
    assert answer.closed  # the leftover bytes are not taken for a second request


def test_a_content_length_longer_than_the_body_is_a_408_after_the_body_timeout(server, bank):
    answer = send_raw(server, http_request("POST", "/api/v1/payments", bank, GOOD_RAW,
                                           content_length=str(len(GOOD_RAW) + 100).encode(), close=False),
                      timeout=BODY_TIMEOUT + 8)
    assert answer.status == 408 and answer.problem()["code"] == "REQUEST_TIMEOUT", answer
    assert BODY_TIMEOUT - 0.5 <= answer.seconds <= BODY_TIMEOUT + 5
    assert answer.closed and answer.headers.get("connection") == "close"


def test_a_body_trickled_in_a_byte_at_a_time_is_cut_off_at_the_deadline(server, bank):
    raw = http_request("POST", "/api/v1/payments", bank, GOOD_RAW, close=False)
    head, body = raw[: raw.index(b"\r\n\r\n") + 4], raw[raw.index(b"\r\n\r\n") + 4:]
    # ~ 200 bytes at 0.05 s each would take 10 s: far beyond the deadline, yet never idle for long.
    answer = send_raw(server, [head] + [bytes([b]) for b in body], pause=0.05, timeout=BODY_TIMEOUT + 10)
    assert answer.status == 408 and answer.problem()["code"] == "REQUEST_TIMEOUT", answer
    assert answer.seconds <= BODY_TIMEOUT + 6


def test_a_client_that_vanishes_mid_body_leaves_no_trace(server, bank):
    raw = http_request("POST", "/api/v1/payments", bank, GOOD_RAW, close=False)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(raw[: len(raw) - 20])
    # the autouse check: nothing created, and the server still answers


def test_slow_partial_headers_do_not_stop_other_clients(server):
    socks = []
    try:
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(b"GET /_sim/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(s)
        started = time.monotonic()
        with nullcontext(server.http) as c:
            for _ in range(10):
                assert c.get("/_sim/health", headers={"Connection": "close"}).status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for s in socks:
            s.close()


@pytest.mark.parametrize("content_length", [b"abc", b"-5", b"99999999999999999999999", b"10, 20", b"0x20"])
def test_a_content_length_that_is_not_a_number_is_refused_by_the_http_layer(server, bank, content_length):
    answer = send_raw(server, http_request("POST", "/api/v1/payments", bank, GOOD_RAW, content_length=content_length))
    assert (answer.status, answer.closed) == (400, True), answer


@pytest.mark.parametrize("raw", [
    b"POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n" + b"x" * 20,
    b"POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40,  # a TLS ClientHello on the plain port
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=["two-lengths", "length-and-chunked", "bad-chunk", "tls", "nul-in-path"])
def test_broken_http_is_refused_and_the_connection_closed(server, raw):
    answer = send_raw(server, raw)
    assert answer.closed and answer.status in (None, 400), answer


# -- stored strings come back as data, and escaped in every HTML page ------------------------------------------------
def test_sql_and_script_looking_values_are_stored_verbatim_and_escaped_on_the_receipt(server):
    session = f"stored-{uuid.uuid4().hex[:8]}"
    name = f"{SCRIPT}{SQL}\"'&<b>"
    with nullcontext(server.http) as c:
        bank = live_headers(c, session)
        r = c.post("/api/v1/payments", json=payment_body(payer={"name": name}, bank_payment_id="1--drop.table:kv"),
                   headers={**bank, "Idempotency-Key": SQL.replace(" ", "_")})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        assert c.get(f"/api/v1/payments/{pid}", headers=bank).json()["status"] == "succeeded"
        assert c.get(f"/api/v1/payments/{pid}/receipt", headers=bank).json()["payer"]["name"] == name
        page = c.get(f"/api/v1/payments/{pid}/receipt?format=html", headers=bank)
        assert page.headers["content-type"].startswith("text/html")
        assert SCRIPT not in page.text and "<b>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        # the store is intact: the same session still lists it and another still sees nothing
        assert c.get("/api/v1/payments", headers=bank).json()["total"] == 1


def test_a_script_login_is_escaped_on_the_login_error_page(server):
    with nullcontext(server.http) as c:
        login = Login(c, f"xss-{uuid.uuid4().hex[:8]}")
        page = login.start(state=SCRIPT, login_hint=SCRIPT)
        assert page.status_code == 200 and SCRIPT not in page.text and "&lt;script&gt;" in page.text
        page = login.login(login=SCRIPT + SQL, password=SCRIPT)
        assert page.status_code == 400 and alert(page.text) == "INVALID_CREDENTIALS"
        assert SCRIPT not in page.text and "&lt;script&gt;" in page.text


@pytest.mark.parametrize("params", [
    {"client_id": SCRIPT, "redirect_uri": SCRIPT, "response_type": "code"},
    {"client_id": "demo-bank", "redirect_uri": f"http://127.0.0.1:8081/callback?x={SCRIPT}", "response_type": "code"},
    {"client_id": "demo-bank", "redirect_uri": "http://127.0.0.1:8081/callback", "gosim_session": SCRIPT},
])
def test_script_in_authorize_parameters_is_escaped_on_the_error_page(server, params):
    with nullcontext(server.http) as c:
        page = c.get("/oauth2/authorize", params=params)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert SCRIPT not in page.text and "<script" not in page.text.lower().replace("<script nonce", "")


@pytest.mark.parametrize("raw", [b"login=%ff%fe&password=x", b"login=%00&password=%00", b"login=%ED%A0%80&password=x",
                                 b"login=\xff\xfe&password=x", b"login=a&login=b&password=x"],
                         ids=["bad-percent-utf8", "nul", "surrogate", "raw-bytes", "repeated"])
def test_hostile_login_forms_are_a_4xx_page_not_a_crash(server, raw):
    with nullcontext(server.http) as c:
        login = Login(c, f"form-{uuid.uuid4().hex[:8]}")
        login.start()
        f = form(login.page.text, "/login")
        page = c.post(f.action, content=urlencode(f.fields).encode() + b"&" + raw,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert 400 <= page.status_code < 500 and page.headers["content-type"].startswith("text/html"), page.text[:300]
    assert alert(page.text)


def test_a_scenario_description_with_script_is_escaped_on_the_console(server):
    session = f"console-{uuid.uuid4().hex[:8]}"
    with nullcontext(server.http) as c:
        if c.get("/_sim/console", params={"session": session}).status_code == 404:
            pytest.skip("no /_sim/console on this build")
        r = c.post("/_sim/scenarios", headers={"X-Gosim-Session": session},
                   json={"name": "xss", "description": SCRIPT + SQL, "enabled": False,
                         "rules": [{"match": {"operation": "ListFines"}, "status": 503}]})
        assert r.status_code == 201, r.text
        assert c.get("/_sim/scenarios/xss", headers={"X-Gosim-Session": session}).json()["description"] == SCRIPT + SQL
        page = c.get("/_sim/console", params={"session": session})
    assert page.status_code == 200 and SCRIPT not in page.text and "&lt;script&gt;" in page.text
