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


# -- spec quality (issue 8): the raw files, examples, every error answer, links -----------------------------------------
import yaml  # noqa: E402
from openapi_schema_validator import OAS30Validator  # noqa: E402

RAW_FILES = sorted(p for p in spec_dir().glob("*.yaml"))
PORTAL = ("citizen", "payments")  # behind the scenario engine: 429 and 503 can answer any of their operations
PROBLEM_SPECS = [n for n in PRESENT if n != "idp"]  # the identity provider speaks RFC 6749/6750 errors instead
PROBLEM_REF = "#/components/schemas/Problem"
# Where one answer feeds the next: (spec, from operation, status, to operation).
LINKS = [
    ("payments", "CreatePayment", "201", "CheckStatus"), ("payments", "CreatePayment", "201", "CancelPayment"),
    ("payments", "CheckStatus", "200", "CancelPayment"), ("payments", "ListPayments", "200", "CheckStatus"),
    ("payments", "CancelPayment", "200", "CheckStatus"),
    ("citizen", "ListFines", "200", "GetFine"), ("citizen", "ListDebts", "200", "GetDebt"),
    ("citizen", "ListMyConsents", "200", "RevokeMyConsent"),
    ("admin", "CreateScenario", "201", "GetScenario"), ("admin", "CreateScenario", "201", "DisableScenario"),
    ("admin", "ListWebhookDeliveries", "200", "ReplayWebhookDelivery"), ("admin", "CreateScenario", "201", "DeleteScenario"),
]


def _resolve(spec: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        node = _pointer(spec, node["$ref"])
    return node


def _pointer(spec: dict, ref: str):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _inline(spec: dict, node, depth: int = 0):
    """The schema with every local $ref replaced by its target (the specs have no recursive schemas)."""
    assert depth < 40, "recursive schema?"
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(spec, _pointer(spec, node["$ref"]), depth + 1)
        return {k: _inline(spec, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(spec, v, depth + 1) for v in node]
    return node


def _is_page(spec: dict, op: dict) -> bool:
    """An HTML page or form post of a browser (login pages, console): it answers pages and redirects, never JSON."""
    kinds = {k for status, r in op["responses"].items() if status[0] in "23"
             for k in (_resolve(spec, r).get("content") or {})}
    return not any("json" in k for k in kinds)


def _security(spec: dict, op: dict) -> list:
    return op.get("security", spec.get("security", []))


def _media_examples(media: dict, spec: dict | None = None) -> list:
    """The media type's examples, else its (resolved) schema's own example: a shared schema may carry one."""
    if "example" in media:
        return [media["example"]]
    found = [e.get("value") for e in (media.get("examples") or {}).values()]
    schema = _resolve(spec, media.get("schema")) if spec else None
    if not found and isinstance(schema, dict) and "example" in schema:
        found = [schema["example"]]
    return found


def all_operations():
    for name in PRESENT:
        spec = load_spec(name)
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method in METHODS:
                    params = [_resolve(spec, p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]
                    yield name, spec, f"{method.upper()} {path}", op, params


OPS = list(all_operations())
OP_IDS = [f"{name}:{op['operationId']}" for name, _, _, op, _ in OPS]


@pytest.mark.parametrize("path", RAW_FILES, ids=[p.name for p in RAW_FILES])
def test_every_raw_spec_file_is_valid_openapi_on_its_own(path):
    validate(yaml.safe_load(path.read_text(encoding="utf-8")), base_uri=path.resolve().as_uri())


@pytest.mark.parametrize("name, spec, where, op, params", OPS, ids=OP_IDS)
def test_every_request_body_has_an_example_that_fits_its_schema(name, spec, where, op, params):
    body = _resolve(spec, op.get("requestBody"))
    if not body or _is_page(spec, op):
        return
    for kind, media in body["content"].items():
        examples = _media_examples(media, spec)
        assert examples, f"{where} {kind}: no request example"
        if "json" in kind:
            for example in examples:
                OAS30Validator(_inline(spec, media["schema"])).validate(example)


@pytest.mark.parametrize("name, spec, where, op, params", OPS, ids=OP_IDS)
def test_every_response_with_a_body_has_an_example_that_fits_its_schema(name, spec, where, op, params):
    for status, response in op["responses"].items():
        response = _resolve(spec, response)
        for kind, media in (response.get("content") or {}).items():
            if kind.startswith("text/"):
                continue  # pages and printable receipts: the schema is just a string
            examples = _media_examples(media, spec)
            assert examples, f"{where} {status} {kind}: no example"
            for example in examples:
                OAS30Validator(_inline(spec, media["schema"])).validate(example)


@pytest.mark.parametrize("name, spec, where, op, params",
                         [o for o in OPS if o[0] in PROBLEM_SPECS], ids=[i for i in OP_IDS if i.split(":")[0] in PROBLEM_SPECS])
def test_every_error_answer_is_a_problem_and_every_possible_one_is_declared(name, spec, where, op, params):
    if _is_page(spec, op):
        return  # a browser's page: problems are shown on the page (`data-error`), not as problem+json
    responses = op["responses"]
    errors = {s: _resolve(spec, r) for s, r in responses.items() if s[0] in "45"}
    for status, response in errors.items():
        media = (response.get("content") or {}).get("application/problem+json")
        assert media, f"{where} {status} is not application/problem+json"
        assert media["schema"] == {"$ref": PROBLEM_REF}, f"{where} {status} does not use the Problem schema"
    needed = set()
    body = _resolve(spec, op.get("requestBody"))
    if body and any("json" in kind for kind in body["content"]):
        needed |= {"400", "408", "413", "415", "422"}  # 408: the body did not arrive within GOSIM_BODY_TIMEOUT
    if params:
        needed.add("400")  # a malformed session header, parameter or cursor
    if any(p["in"] == "path" for p in params):
        # Even a PUT that creates what is missing: a path no value can make (a control character) is 404 before
        # routing (docs/decisions.md), and the long fuzz run (make fuzz) finds it.
        needed.add("404")
    requirements = _security(spec, op)
    if any(req for req in requirements):
        needed.add("401")
    if any(scopes for req in requirements for scopes in req.values()):
        needed.add("403")
    if name in PORTAL:
        needed |= {"429", "503"}
    missing = sorted(needed - set(responses))
    assert not missing, f"{where} does not declare {missing}"


@pytest.mark.parametrize("spec_name, source, status, target", LINKS, ids=[f"{s}->{t}" for _, s, _, t in LINKS])
def test_answers_that_feed_the_next_call_say_so_with_links(spec_name, source, status, target):
    if spec_name not in PRESENT:
        pytest.skip(f"{spec_name}.yaml is not there")
    ops = {op["operationId"]: (op, params) for n, _, _, op, params in OPS if n == spec_name}
    links = (_resolve(load_spec(spec_name), ops[source][0]["responses"][status]).get("links") or {})
    chosen = [link for link in links.values() if link.get("operationId") == target]
    assert chosen, f"{source} {status} has no link to {target}"
    names = {p["name"] for p in ops[target][1]}
    for link in chosen:
        assert set(link.get("parameters", {})) <= names, f"{source} -> {target} names unknown parameters"
        assert all(str(v).startswith("$response.body#/") for v in link.get("parameters", {}).values())


def test_every_link_names_an_operation_of_its_own_spec():
    for name in PRESENT:
        ids = {op["operationId"] for n, _, _, op, _ in OPS if n == name}
        for n, spec, where, op, _ in OPS:
            if n != name:
                continue
            for response in op["responses"].values():
                for link in (_resolve(spec, response).get("links") or {}).values():
                    assert link.get("operationId") in ids, f"{where}: link to {link.get('operationId')}"


@pytest.mark.parametrize("name, spec, where, op, params", [o for o in OPS if o[0] == "idp"],
                         ids=[i for i in OP_IDS if i.startswith("idp:")])
def test_identity_provider_json_endpoints_with_a_form_declare_413_and_415_and_page_errors_are_pages(
        name, spec, where, op, params):
    if _is_page(spec, op):
        for status, response in op["responses"].items():
            if status[0] == "4":
                kinds = set((_resolve(spec, response).get("content") or {}))
                assert kinds <= {"text/html"}, f"{where} {status}: a page answers a page"
        return
    if op.get("requestBody"):
        assert {"400", "413", "415"} <= set(op["responses"]), f"{where} lacks 400/413/415"
