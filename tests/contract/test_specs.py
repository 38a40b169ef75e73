"""The contract itself: every spec is valid OpenAPI, every operation is named and bound to a handler."""

from __future__ import annotations

import importlib

import pytest
from openapi_spec_validator import validate

from simulator.http.resolver import snake
from simulator.spec import SPECS, load_spec, spec_dir

PRESENT = [name for name in SPECS if (spec_dir() / f"{name}.yaml").exists()]
METHODS = {"get", "post", "put", "delete", "patch"}


def operations(name: str):
    for path, item in load_spec(name)["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


@pytest.mark.parametrize("name", PRESENT)
def test_the_bundled_spec_is_valid_openapi(name):
    validate(load_spec(name))


@pytest.mark.parametrize("name", PRESENT)
def test_every_operation_has_an_id_a_summary_and_a_handler(name):
    ids = []
    for path, method, op in operations(name):
        assert op.get("operationId"), f"{method.upper()} {path} has no operationId"
        assert op.get("summary"), f"{op['operationId']} has no summary"
        controller = op.get("x-openapi-router-controller")
        assert controller, f"{op['operationId']} names no controller"
        module = importlib.import_module(controller)
        assert hasattr(module, snake(op["operationId"])), f"{controller}.{snake(op['operationId'])} is missing"
        ids.append(op["operationId"])
    assert len(ids) == len(set(ids))


def test_operation_ids_are_unique_across_all_specs():
    ids = [op["operationId"] for name in PRESENT for _, _, op in operations(name)]
    assert len(ids) == len(set(ids))
