"""The fast path answers exactly as connexion's path does, byte for byte, and serves only calls connexion would serve.

Two apps share one SQLite file (so one token and one state serve both): one with the fast path, one without. Every
request below goes to both; status, body and headers (but the request id) must be identical. The fast app counts
what its fast path served, so the test also proves which calls took it and which fell through to connexion.
"""

from __future__ import annotations

import pytest

from conftest import CLOCK_START, bearer
from simulator.app import create_app
from simulator.http.fastpath import FAST_OPERATIONS, FastPathMiddleware, build_routes
from simulator.settings import Settings
from simulator.spec import load_spec
from support.payments import CAMERA_FINE, PAID_FINE, TAX_DEBT, UNKNOWN_UIN, new_key, payment_body

SESSION = "fast-path"
OTHER_PERSONS_FINE = PAID_FINE  # belongs to 1000000002


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(fast client, slow client, list of the paths the fast path served)."""
    db = tmp_path_factory.mktemp("fast") / "state.db"
    base = Settings.from_env({}, storage=f"sqlite:///{db}", clock_start=CLOCK_START, log_format="off")
    fast, served = counting_client(base.replace(fast_path=True))
    slow = create_app(base.replace(fast_path=False)).test_client()
    yield fast, slow, served
    fast.close()
    slow.close()


_SERVED: dict[int, list[str]] = {}  # by id() of an app's services: the calls its fast path took


@pytest.fixture(scope="module", autouse=True)
def _count_fast_calls():
    original = FastPathMiddleware._prepare

    def counting(self, scope, matched, raw):
        taken = original(self, scope, matched, raw)
        if taken:
            path = scope["path"] + ("?" + scope["query_string"].decode() if scope.get("query_string") else "")
            _SERVED.setdefault(id(self.services), []).append(path)
        return taken

    FastPathMiddleware._prepare = counting  # type: ignore[method-assign]
    yield
    FastPathMiddleware._prepare = original  # type: ignore[method-assign]


def counting_client(settings):
    """A test client of an app, and the list of the calls (path and query) its fast path takes."""
    app = create_app(settings)
    return app.test_client(), _SERVED.setdefault(id(app.app.extensions["gosim"]), [])


def _mint(client, scopes, oid=1000000001, client_id="demo-bank", ttl=None, session=SESSION) -> str:
    body = {"client_id": client_id, "scopes": scopes, **({"oid": oid} if oid else {}), **({"ttl": ttl} if ttl else {})}
    r = client.post("/_sim/tokens", json=body, headers={"X-Gosim-Session": session})
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def tokens(pair):
    fast, _, _ = pair
    return {
        "all": _mint(fast, ["openid", "fullname", "birthdate", "snils", "inn", "contacts", "fines", "debts", "payments"]),
        "fines": _mint(fast, ["fines"]),
        "profile": _mint(fast, ["openid"]),
        "system": _mint(fast, ["payments"], oid=None),
        "other-session": _mint(fast, ["fines", "debts"], session="another-run"),
        "short": _mint(fast, ["fines"], ttl=1),
    }


def same(pair, method, path, headers=None, json=None):
    fast, slow, _ = pair
    a = fast.request(method, path, headers=headers, json=json, follow_redirects=False)
    b = slow.request(method, path, headers=headers, json=json, follow_redirects=False)
    assert (a.status_code, a.content) == (b.status_code, b.content), path
    strip = {"x-request-id"}
    assert [(k, v) for k, v in a.headers.multi_items() if k not in strip] == \
        [(k, v) for k, v in b.headers.multi_items() if k not in strip], path
    return a


def h(token, **extra):
    return bearer(token, **{"X-Gosim-Session": SESSION, **extra})


SERVED = [  # (token, path): answered by the fast path
    ("all", f"/api/v1/fines/{CAMERA_FINE}"),
    ("all", "/api/v1/fines"),
    ("all", "/api/v1/fines?status=unpaid"),
    ("all", "/api/v1/fines?limit=1"),
    ("all", "/api/v1/fines?vehicle=%D0%90123%D0%92%D0%A1777"),
    ("all", "/api/v1/debts"),
    ("all", f"/api/v1/debts/{TAX_DEBT}"),
    ("all", "/api/v1/persons/me"),
    ("profile", "/api/v1/persons/me"),
    ("all", "/api/v1/consents"),
    ("all", "/api/v1/payments"),
    ("fines", f"/api/v1/fines/{CAMERA_FINE}"),
    # Errors the handlers themselves raise are still the fast path's to serve: the same exception, the same renderer.
    ("all", f"/api/v1/fines/{UNKNOWN_UIN}"),
    ("all", f"/api/v1/fines/{OTHER_PERSONS_FINE}"),
    ("all", "/api/v1/fines/18810186987973091147"),  # right shape, wrong check digit: the handler's 422
    ("all", f"/api/v1/debts/{CAMERA_FINE}"),  # a fine asked for as a debt
    ("all", "/api/v1/payments/00000000-0000-4000-8000-000000000000"),
    ("system", "/api/v1/payments"),
]

PASSED_ON = [  # (token, path, extra headers): connexion's to answer
    (None, f"/api/v1/fines/{CAMERA_FINE}", {}),  # no token
    ("fines", "/api/v1/debts", {}),  # scope missing: connexion's 403
    ("profile", "/api/v1/fines", {}),
    ("other-session", "/api/v1/fines", {}),  # a token of another session
    ("all", "/api/v1/fines/1881", {}),  # pattern refused: 400
    ("all", "/api/v1/fines?limit=0", {}),
    ("all", "/api/v1/fines?limit=abc", {}),
    ("all", "/api/v1/fines?limit=1&limit=2", {}),  # connexion takes one of them; we would not guess which
    ("all", "/api/v1/fines?status=", {}),
    ("all", "/api/v1/fines?status=lost", {}),
    ("all", "/api/v1/fines?colour=red", {}),  # a parameter the spec does not name
    ("all", "/api/v1/fines/", {}),  # a redirect, from connexion
    ("all", "/api/v1/fines/%00", {}),
    ("all", "/api/v1/finesX", {}),
    ("all", f"/api/v1/fines/{CAMERA_FINE}", {"X-Gosim-Session": "bad session!"}),
]


def test_every_fast_operation_is_in_the_specs_and_is_served_fast():
    routes = build_routes([("/api/v1", load_spec("citizen")), ("/api/v1", load_spec("payments"))])
    fast = {r.operation_id.rpartition(".")[2] for r in routes if r.fast}
    assert fast == FAST_OPERATIONS


@pytest.mark.parametrize(("who", "path"), SERVED)
def test_well_formed_calls_take_the_fast_path_and_answer_as_connexion_does(pair, tokens, who, path):
    _, _, served = pair
    before = len(served)
    same(pair, "GET", path, headers=h(tokens[who]))
    assert served[before:] == [path]


@pytest.mark.parametrize(("who", "path", "extra"), PASSED_ON)
def test_anything_out_of_order_is_left_to_connexion_with_the_same_answer(pair, tokens, who, path, extra):
    _, _, served = pair
    before = len(served)
    headers = h(tokens[who]) if who else {"X-Gosim-Session": SESSION}
    same(pair, "GET", path, headers={**headers, **extra})
    assert served[before:] == []


def test_malformed_authorization_headers_are_left_to_connexion(pair, tokens):
    _, _, served = pair
    before = len(served)
    for value in ("Bearer", "Bearer ", "Basic abc", f"Bearer {tokens['all']}x", "Bearer not.a.jwt"):
        r = same(pair, "GET", "/api/v1/fines", headers={"Authorization": value, "X-Gosim-Session": SESSION})
        assert r.status_code == 401, value
    for value in (f"bearer {tokens['all']}", f"Bearer  {tokens['all']}"):  # connexion forgives these; we pass them on
        assert same(pair, "GET", "/api/v1/fines", headers={"Authorization": value, "X-Gosim-Session": SESSION})
    assert served[before:] == []


def test_state_changes_made_through_connexion_are_seen_by_the_fast_path(pair, tokens):
    fast, slow, _ = pair
    r = slow.post("/api/v1/payments", json=payment_body(CAMERA_FINE),
                  headers=h(tokens["all"], **{"Idempotency-Key": new_key()}))
    assert r.status_code == 201, r.text
    payment = r.json()["id"]
    assert same(pair, "GET", f"/api/v1/payments/{payment}", headers=h(tokens["all"])).json()["id"] == payment
    listed = same(pair, "GET", "/api/v1/payments", headers=h(tokens["all"])).json()
    assert payment in [p["id"] for p in listed["items"]]


def test_scenarios_fault_fast_calls_as_they_fault_connexion_calls(pair, tokens):
    fast, slow, served = pair
    rule = {"rules": [{"match": {"operation": "GetFine"}, "status": 503, "retry_after": 7}]}
    assert fast.put("/_sim/scenarios/fines-down", json=rule, headers={"X-Gosim-Session": SESSION}).status_code in (200, 201)
    try:
        before = len(served)
        r = same(pair, "GET", f"/api/v1/fines/{CAMERA_FINE}", headers=h(tokens["all"]))
        assert r.status_code == 503 and r.headers["x-gosim-fault"] == "fines-down/rule-1"
        assert r.headers["retry-after"] == "7"
        assert len(served) == before + 1  # the fault was the fast path's own answer
    finally:
        fast.delete("/_sim/scenarios/fines-down", headers={"X-Gosim-Session": SESSION})


def test_fast_calls_are_journaled_with_their_operation_and_client(pair, tokens):
    fast, _, served = pair
    before = len(served)
    assert fast.get(f"/api/v1/fines/{CAMERA_FINE}", headers=h(tokens["all"])).status_code == 200
    assert len(served) == before + 1
    journal = fast.get("/_sim/requests", params={"operation": "GetFine", "limit": 1},
                       headers={"X-Gosim-Session": SESSION}).json()
    entry = journal["items"][0]
    assert (entry["operation"], entry["client"], entry["status"], entry["session"]) == \
        ("GetFine", "demo-bank", 200, SESSION)
    assert entry["request"]["headers"]["authorization"].startswith("Bearer") and tokens["all"] not in str(entry)


def test_an_expired_token_is_refused_by_connexion_not_served(pair, tokens):
    fast, _, served = pair
    assert fast.post("/_sim/clock/advance", json={"duration": "PT2S"},
                     headers={"X-Gosim-Session": SESSION}).status_code == 200
    before = len(served)
    r = same(pair, "GET", f"/api/v1/fines/{CAMERA_FINE}", headers=h(tokens["short"]))
    assert r.status_code == 401 and r.json()["code"] == "TOKEN_EXPIRED"
    assert served[before:] == []


def test_the_client_rate_limit_counts_fast_calls(tmp_path):
    settings = Settings.from_env({}, storage=f"sqlite:///{tmp_path}/s.db", clock_start=CLOCK_START, log_format="off")
    client = create_app(settings).test_client()
    token = _mint(client, ["fines"], client_id="limited-bank")
    statuses = [client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=h(token)).status_code for _ in range(6)]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]


@pytest.mark.parametrize(("changes", "taken"), [
    ({"validate_responses": True}, False), ({"fast_path": False}, False), ({}, True),
])
def test_response_validation_or_the_setting_turn_the_fast_path_off(changes, taken):
    settings = Settings.from_env({}, storage="memory://", clock_start=CLOCK_START, log_format="off", **changes)
    client, served = counting_client(settings)
    token = _mint(client, ["fines"])
    assert client.get(f"/api/v1/fines/{CAMERA_FINE}", headers=h(token)).status_code == 200
    assert served == ([f"/api/v1/fines/{CAMERA_FINE}"] if taken else [])


# -- CreatePayment: the one write on the fast path ---------------------------------------------------------------------


def test_a_payment_created_fast_is_replayed_byte_for_byte_by_either_path(pair, tokens):
    fast, slow, served = pair
    key = new_key()
    body = payment_body(TAX_DEBT)
    before = len(served)
    first = fast.post("/api/v1/payments", json=body, headers=h(tokens["all"], **{"Idempotency-Key": key}))
    assert first.status_code == 201, first.text
    assert served[before:] == ["/api/v1/payments"]
    assert first.headers["location"] == f"/api/v1/payments/{first.json()['id']}"
    assert "idempotent-replayed" not in first.headers
    for client in (fast, slow):
        again = client.post("/api/v1/payments", json=body, headers=h(tokens["all"], **{"Idempotency-Key": key}))
        assert (again.status_code, again.content) == (201, first.content)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers["location"] == first.headers["location"]
    # The same key with another body: the handler's own 422, the same on both paths.
    r = same(pair, "POST", "/api/v1/payments", json={**body, "bank_payment_id": "other"},
             headers=h(tokens["all"], **{"Idempotency-Key": key}))
    assert r.status_code == 422 and r.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    # A second payment for the charge now in flight: 409 from either path.
    r = same(pair, "POST", "/api/v1/payments", json=body, headers=h(tokens["all"], **{"Idempotency-Key": new_key()}))
    assert r.status_code == 409


@pytest.mark.parametrize("change", [
    {"amount": -1}, {"amount": 1.5}, {"amount": "25000"}, {"uin": "123"}, {"payer": None}, {"extra": 1},
])
def test_a_body_its_schema_refuses_is_left_to_connexion(pair, tokens, change):
    _, _, served = pair
    before = len(served)
    r = same(pair, "POST", "/api/v1/payments", json={**payment_body(CAMERA_FINE), **change},
             headers=h(tokens["all"], **{"Idempotency-Key": new_key()}))
    assert r.status_code in (400, 422)
    assert served[before:] == []


@pytest.mark.parametrize(("raw", "content_type"), [
    (b'{"uin": "1", "uin": "2"}', "application/json"),  # a duplicate key
    (b'{"uin": ', "application/json"),
    (b"", "application/json"),
    (b'{"uin": "18810186987973091146"}', "text/plain"),
    (b'\xff\xfe{}', "application/json"),
])
def test_malformed_bodies_are_left_to_connexion(pair, tokens, raw, content_type):
    fast, slow, served = pair
    before = len(served)
    headers = h(tokens["all"], **{"Idempotency-Key": new_key(), "Content-Type": content_type})
    a = fast.post("/api/v1/payments", content=raw, headers=headers)
    b = slow.post("/api/v1/payments", content=raw, headers=headers)
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert a.status_code >= 400
    assert served[before:] == []


def test_a_payment_without_an_idempotency_key_gets_the_handlers_own_refusal_on_either_path(pair, tokens):
    _, _, served = pair
    before = len(served)
    r = same(pair, "POST", "/api/v1/payments", json=payment_body(CAMERA_FINE), headers=h(tokens["all"]))
    assert r.status_code == 422 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert served[before:] == ["/api/v1/payments"]


def test_a_body_cut_short_by_a_disconnect_is_never_served_as_if_it_were_whole(tmp_path):
    """A client that goes away in the middle of its body: whatever prefix arrived must not be taken for the body."""
    import asyncio
    import json as _json

    settings = Settings.from_env({}, storage=f"sqlite:///{tmp_path}/s.db", clock_start=CLOCK_START, log_format="off")
    app = create_app(settings)
    client = app.test_client()
    token = _mint(client, ["payments"])
    body = _json.dumps(payment_body(CAMERA_FINE)).encode()
    messages = [{"type": "http.request", "body": body, "more_body": True}, {"type": "http.disconnect"}]
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"x-gosim-session", SESSION.encode()),
               (b"content-type", b"application/json"), (b"content-length", str(len(body) + 10).encode()),
               (b"idempotency-key", new_key().encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/v1/payments", "raw_path": b"/api/v1/payments", "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    sent: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def run():
        try:
            await app(scope, receive, send)
        except Exception:  # a server may give up on a gone client any way it likes; what matters is the state
            pass

    asyncio.run(run())
    assert not any(m.get("status") == 201 for m in sent)
    listed = client.get("/api/v1/payments", headers=h(token))
    assert listed.status_code == 200 and listed.json()["items"] == []
