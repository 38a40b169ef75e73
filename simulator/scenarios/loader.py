"""Reading scenario files and bodies: YAML with line marks, the JSON Schema, then the model's own checks."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Iterable

import yaml
from jsonschema import Draft202012Validator, ValidationError

from .model import Problem, Scenario, build_scenario

SCHEMA_PATH = Path(__file__).with_name("scenario-file.schema.json")
# libyaml where installed: the same nodes, marks and data, ~8x faster (every start reads the preset files).
_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 1_000_000

__all__ = [
    "SCHEMA_PATH",
    "ScenarioFileError",
    "check_scenario",
    "format_path",
    "known_operations",
    "load_file",
    "load_text",
]


class ScenarioFileError(ValueError):
    """A scenario file that cannot be used; ``problems`` holds one line per problem, each naming line and field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s) in the scenario file:\n" + "\n".join(problems))


@functools.lru_cache(maxsize=None)
def _validator(pointer: str = "") -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    if pointer:
        # A piece of the schema (one scenario, for the admin API) that still resolves the file's $defs.
        schema = {**schema["$defs"][pointer], "$defs": schema["$defs"]}
    return Draft202012Validator(schema)


@functools.lru_cache(maxsize=None)
def _operations_in(spec_dir: Path, stamp: tuple[tuple[str, float], ...]) -> frozenset[str]:
    found: set[str] = set()
    for name, _mtime in stamp:
        doc = yaml.load((spec_dir / name).read_text(encoding="utf-8"), Loader=_YAML) or {}  # noqa: S506 (safe)
        for item in (doc.get("paths") or {}).values():
            for op in (item or {}).values():
                if isinstance(op, dict) and op.get("operationId"):
                    found.add(str(op["operationId"]))
    return frozenset(found)


def known_operations(spec_dir: Path) -> frozenset[str]:
    """Every operationId in the specs that exist; scenario rules may only name these."""
    files = sorted(p for p in spec_dir.glob("*.yaml") if p.is_file())
    return _operations_in(spec_dir, tuple((p.name, p.stat().st_mtime) for p in files))


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _schema_problems(doc: Any, validator: Draft202012Validator) -> list[Problem]:
    problems: list[Problem] = []
    for error in validator.iter_errors(doc):
        problems.extend(_explain(error))
    return problems


def _explain(error: ValidationError) -> list[Problem]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema or {}).get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            return [Problem((*path, k), f"unknown field {k!r}" + _allowed(allowed)) for k in extra]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        return [Problem(path, f"missing field {k!r}") for k in missing]
    if error.validator in ("minimum", "maximum") and path and path[-1] == "status":
        return [Problem(path, f"bad status {error.instance!r}: a fault answers 400-599")]
    if error.validator == "pattern" and path and path[-1] == "name":
        return [Problem(path, f"bad name {error.instance!r}: lower-case latin letters, digits, '.', '_', '-'; up to 64")]
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        return [Problem(path, f"expected {expected}, got {json.dumps(error.instance, ensure_ascii=False)[:60]}")]
    return [Problem(path, error.message[:300])]


def _allowed(names: set[str]) -> str:
    return f" (allowed: {', '.join(sorted(names))})" if names else ""


def check_scenario(doc: Any, operations: frozenset[str] | None = None) -> tuple[Scenario | None, list[Problem]]:
    """One scenario from the admin API: the schema, then the model; problems carry field paths."""
    problems = _schema_problems(doc, _validator("scenario"))
    broken, whole = _broken_rules(problems, ())
    if whole:
        return None, problems
    scenario, found = build_scenario(doc, operations=operations, skip=broken)
    return (scenario, []) if scenario is not None else (None, problems + found)


def _broken_rules(problems: list[Problem], at: tuple[str | int, ...]) -> tuple[frozenset[int], bool]:
    """Which rules of the scenario at `at` the schema refused, and whether something outside the rules was refused."""
    n = len(at)
    mine = [p.path[n:] for p in problems if p.path[:n] == at]
    rules = frozenset(r[1] for r in mine if len(r) > 1 and r[0] == "rules" and isinstance(r[1], int))
    whole = any(not (len(r) > 1 and r[0] == "rules" and isinstance(r[1], int)) for r in mine)
    return rules, whole


# --- files ----------------------------------------------------------------------------------------------------------
def _line_of(node: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the node a path points at (or of the deepest part that exists)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _duplicate_keys(node: yaml.Node | None, path: tuple[str | int, ...] = ()) -> list[Problem]:
    # PyYAML keeps the last of two equal keys without a word; in a fault rule that hides half of what was meant.
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if name in seen:
                problems.append(Problem((*path, name), f"duplicate key {name!r}", key.start_mark.line + 1))
            seen.add(name)
            problems.extend(_duplicate_keys(value, (*path, name)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, (*path, i)))
    return problems


def load_text(text: str, source: str = "<scenarios>", operations: frozenset[str] | None = None) -> tuple[Scenario, ...]:
    """The scenarios of a file's text; raises ScenarioFileError listing every problem as `source:line: field: what`."""
    try:
        node = yaml.compose(text, Loader=_YAML)
        doc = yaml.load(text, Loader=_YAML)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{mark.line + 1}" if mark else "?"
        raise ScenarioFileError(source, [f"{source}:{line}: YAML syntax error: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioFileError(source, [f"{source}: YAML error: {exc}"]) from None
    if doc is None:
        doc = {}
    problems = _duplicate_keys(node) + _schema_problems(doc, _validator())
    scenarios: list[Scenario] = []
    # The model's checks run on every rule the schema passed, so one run reports as much as it can.
    top_level = any(len(p.path) < 2 for p in problems)
    if not top_level:
        names: set[str] = set()
        for i, raw in enumerate(doc["scenarios"]):
            broken, whole = _broken_rules(problems, ("scenarios", i))
            if whole:
                continue
            scenario, found = build_scenario(raw, operations=operations, at=("scenarios", i), skip=broken)
            problems.extend(found)
            if raw["name"] in names:
                problems.append(Problem(("scenarios", i, "name"), f"scenario name {raw['name']!r} is used twice"))
            names.add(raw["name"])
            if scenario is not None:
                scenarios.append(scenario)
    if problems:
        located = sorted((p.line or _line_of(node, p.path) or 0, format_path(p.path), p.message) for p in problems)
        raise ScenarioFileError(source, [f"{source}:{line}: {field}: {message}" for line, field, message in located])
    return tuple(scenarios)


def documents(text: str) -> list[dict[str, Any]]:
    """The raw scenario documents of a file already checked by load_text, in file order."""
    return list((yaml.load(text, Loader=_YAML) or {}).get("scenarios") or [])  # noqa: S506 (a safe loader)


def load_file(path: Path | str, operations: frozenset[str] | None = None) -> tuple[tuple[Scenario, ...], list[dict[str, Any]]]:
    """The scenarios of a file and their raw documents (what the admin API shows); ScenarioFileError when unusable."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioFileError(str(path), [f"{path}: cannot read the scenario file: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioFileError(str(path), [f"{path}: the file is larger than {MAX_FILE_BYTES // 1000} KB"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioFileError(str(path), [f"{path}: the file is not UTF-8"]) from None
    scenarios = load_text(text, str(path), operations)
    return scenarios, documents(text)
