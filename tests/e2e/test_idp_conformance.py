"""Schemathesis against the identity provider's spec on the real server: no 5xx, every answer as the spec says."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("GOSIM_FUZZ_EXAMPLES", "8"))
# The idp's parameters are loose strings on purpose (OAuth errors are the provider's to give, in its own form), so a
# schema-valid request is often a 400 by design: check 5xx, statuses, content types, headers and bodies, not acceptance.
CONFIG = SchemathesisConfig.from_dict({"checks": {
    "positive_data_acceptance": {"enabled": False},
}})


@pytest.fixture(scope="module")
def idp_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server.url}/openapi/idp.json", config=CONFIG)


idp = schemathesis.pytest.from_fixture("idp_schema")


@idp.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_identity_provider_conforms_to_its_spec(case, live_server):
    case.headers = {**(case.headers or {}), "X-Gosim-Session": "conformance-idp"}
    case.call_and_validate(base_url=live_server.url)
