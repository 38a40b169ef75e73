"""Schemathesis stateful runs over the payments API: sequences that follow the spec's links (CreatePayment ->
CheckStatus -> CancelPayment -> GetReceipt) against the real server, every answer checked against the spec."""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.config import SchemathesisConfig

from simulator.spec import load_spec
from support.server import start_server

pytestmark = pytest.mark.e2e

SESSION = "stateful-links"
STEPS = int(os.environ.get("GOSIM_FUZZ_EXAMPLES", "8"))
# Business-rule refusals of schema-valid data (an amount that is not what is due, a paid charge) are 409/422 by design.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]}}})
STORY_UINS = ["18810186987973091146", "18810017075364556818", "18810119672731778483", "18251884472940557619",
              "32269871689768469783", "18810128084585003703"]
schemathesis.openapi.format("uin", st.sampled_from(STORY_UINS))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("stateful"), workers=1)
    yield srv
    srv.stop()


def test_payment_sequences_that_follow_the_links_conform_to_the_spec(server):
    token = httpx.post(f"{server.url}/_sim/tokens", json={"client_id": "demo-bank", "scopes": ["payments"],
                                                          "ttl": 31_536_000},
                       headers={"X-Gosim-Session": SESSION}).json()["access_token"]
    base = schemathesis.openapi.from_dict(load_spec("payments"), config=CONFIG).as_state_machine()
    visited: list[str] = []

    class Payments(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"base_url": f"{server.url}/api/v1",
                    "headers": {"Authorization": f"Bearer {token}", "X-Gosim-Session": SESSION}}

        def after_call(self, response, case):
            visited.append(f"{case.method} {case.path}")
            return super().after_call(response, case)

    run_state_machine_as_test(Payments, settings=settings(
        max_examples=STEPS, stateful_step_count=6, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    # The run really walked from a created payment to the operations its links lead to.
    assert any(v.startswith("POST /payments") for v in visited)
    assert any("{payment_id}" in v for v in visited), visited
