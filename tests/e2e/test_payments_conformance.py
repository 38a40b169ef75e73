"""Schemathesis holds the real server to openapi/payments.yaml: no 5xx, every answer as documented, valid data not 400."""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

pytestmark = pytest.mark.e2e

SESSION = "conformance-payments"
EXAMPLES = int(os.environ.get("GOSIM_FUZZ_EXAMPLES", "8"))
# A schema-valid payment may still break a business rule (wrong amount, paid charge, no key): 404/409/422 by design.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]}}})


@pytest.fixture(scope="module")
def bank_token(live_server) -> str:
    r = httpx.post(f"{live_server.url}/_sim/tokens", headers={"X-Gosim-Session": SESSION},
                   json={"client_id": "demo-bank", "scopes": ["payments"], "ttl": 31_536_000})
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


@pytest.fixture(scope="module")
def payments_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi/payments.json", config=CONFIG)


payments = schemathesis.pytest.from_fixture("payments_schema")


@payments.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_payments_api_conforms_to_its_spec(case, bank_token, live_server):
    case.headers = {**(case.headers or {}), "X-Gosim-Session": SESSION, "Authorization": f"Bearer {bank_token}"}
    case.call_and_validate(base_url=f"{live_server.url}/api/v1")
