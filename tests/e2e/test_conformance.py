"""Schemathesis holds the real server to its own specs: no 5xx, every answer valid (status, headers, body).

Bounded for `make test` (a few examples per operation); `make fuzz` runs the same with many more.
"""

from __future__ import annotations

import os
import random

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from simulator.domain.identifiers import make_uin
from support.server import start_server

SESSION = "conformance"
STORY_UINS = ["18810186987973091146", "18810017075364556818", "18810119672731778483", "18810064887663440028",
              "18251884472940557619", "32269871689768469783", "18810128084585003703"]
EXAMPLES = int(os.environ.get("GOSIM_FUZZ_EXAMPLES", "8"))
# A schema-valid request may still break a business rule (a clock jump past the century, an amount that is not what
# is due): those are 422 by design, so 422 counts as an accepted answer to valid data; 400 does not.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]}}})


def _random_uin(seed: int) -> str:
    return make_uin(random.Random(seed).choice(["188101", "188100", "182", "322"]), random.Random(seed))


schemathesis.openapi.format("uin", st.one_of(st.sampled_from(STORY_UINS), st.integers(0, 10**9).map(_random_uin)))


def _token(url: str, **body) -> str:
    r = httpx.post(f"{url}/_sim/tokens", json={"ttl": 31_536_000, **body}, headers={"X-Gosim-Session": SESSION})
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own: the fuzzer enables global scenarios and resets everything, which must not reach others."""
    srv = start_server(tmp_path_factory.mktemp("conformance"), workers=1)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def person_token(server) -> str:
    return _token(server.url, client_id="demo-bank", oid=1000000001)


@pytest.fixture(scope="module")
def citizen_schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi/citizen.json", config=CONFIG)


@pytest.fixture(scope="module")
def admin_schema(server):
    return schemathesis.openapi.from_url(f"{server.url}/_sim/openapi/admin.json", config=CONFIG)


citizen = schemathesis.pytest.from_fixture("citizen_schema")
admin = schemathesis.pytest.from_fixture("admin_schema")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@citizen.parametrize()
@FUZZ
def test_the_citizen_api_conforms_to_its_spec(case, person_token, server):
    case.headers = {**(case.headers or {}), "X-Gosim-Session": SESSION, "Authorization": f"Bearer {person_token}"}
    case.call_and_validate(base_url=f"{server.url}/api/v1")


@admin.parametrize()
@FUZZ
def test_the_admin_api_conforms_to_its_spec(case, server):
    case.headers = {**(case.headers or {}), "X-Gosim-Session": f"{SESSION}-admin"}
    case.call_and_validate(base_url=f"{server.url}/_sim")
