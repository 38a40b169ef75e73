"""Loads the OpenAPI documents in openapi/, bundles their cross-file $refs, and caches the checked bundle by content hash."""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from .settings import resource_path

SPECS = ("idp", "citizen", "payments", "admin", "ops")

# The C parser reads our specs about 8x faster than the pure-Python one; both build the same plain data.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Bump when the cache file's layout or what goes into it changes.
_CACHE_FORMAT = 1


def spec_dir() -> Path:
    return resource_path("openapi")


def _parse(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python


@functools.lru_cache(maxsize=None)
def _load_yaml(path: Path) -> Any:
    return _parse(path.read_text(encoding="utf-8"))


def _pointer(doc: Any, pointer: str) -> Any:
    for part in [p for p in pointer.lstrip("/").split("/") if p]:
        doc = doc[part.replace("~1", "/").replace("~0", "~")]
    return doc


def load_spec(name: str) -> dict[str, Any]:
    """The named spec with every ``other.yaml#/X/Y`` ref copied into its own ``components`` section.

    Shared pieces (the problem schema, common parameters) are written once in openapi/components/ and referenced
    by file, which keeps each YAML file valid on its own; clients, Swagger UI and schemathesis get one document.
    """
    return _bundle((spec_dir() / f"{name}.yaml").resolve(), _load_yaml)


def _bundle(root: Path, load: Callable[[Path], Any]) -> dict[str, Any]:
    spec = copy.deepcopy(load(root))
    components = spec.setdefault("components", {})

    def walk(node: Any, base: Path) -> Any:
        """Rewrites refs in place; new component entries are walked as they are added, so iterate a snapshot."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            # A local ref inside a shared file points into that file, not into the spec that pulled it in.
            if isinstance(ref, str) and (not ref.startswith("#") or base != root):
                file_part, _, pointer = ref.partition("#")
                target_file = (base.parent / file_part).resolve() if file_part else base
                parts = [p for p in pointer.split("/") if p]
                # "components.yaml#/schemas/Problem" lands at "#/components/schemas/Problem"
                section, local_name = parts[-2], parts[-1]
                bucket = components.setdefault(section, {})
                if local_name not in bucket:
                    bucket[local_name] = {}  # reserve first: refs may be recursive
                    bucket[local_name] = walk(copy.deepcopy(_pointer(load(target_file), pointer)), target_file)
                return {"$ref": f"#/components/{section}/{local_name}"}
            for key in list(node):
                node[key] = walk(node[key], base)
            return node
        if isinstance(node, list):
            for i, value in enumerate(node):
                node[i] = walk(value, base)
            return node
        return node

    return walk(spec, root)


# -- what `gosim serve` mounts: every present spec, bundled and checked once per content --------------------------------


@dataclass(frozen=True)
class SpecBundle:
    """The present specs (SPECS order) bundled and validated by connexion, and every operationId of the spec files."""

    specs: dict[str, dict[str, Any]]
    operations: frozenset[str]


def load_bundle(cache_dir: Path | None = None) -> SpecBundle:
    """What create_app mounts; fresh dicts on every call (connexion and callers may change them).

    Building it costs a YAML parse of every file and connexion's validation of each spec against the OpenAPI schema
    (about 0.1 s, several times that on a loaded machine), on every start of every worker. The result depends only on
    the files' bytes and the connexion version that checked them, so it is kept in ``cache_dir`` under a hash of both,
    and memoised per process (workers forked from the serving master inherit it). A cache file that is missing, stale,
    unreadable or corrupt is rebuilt; a cache dir that cannot be written means no file cache, never a failed start.
    """
    directory = spec_dir()
    contents = _spec_files(directory)
    data = pickle.loads(_bundle_pickle(directory, _digest(contents), cache_dir, contents))
    return SpecBundle(specs=data["specs"], operations=frozenset(data["operations"]))


@contextlib.contextmanager
def validated_already() -> Iterator[None]:
    """Inside: connexion's add_api skips validating a spec against the OpenAPI schema.

    Only for specs from load_bundle, which were validated by connexion's own validator when the bundle was built (this
    process or an earlier one on the same bytes and connexion version). Start-up is single-threaded, and the class
    attribute is put back on the way out.
    """
    from connexion.spec import OpenAPISpecification

    had_own = "_validate_spec" in OpenAPISpecification.__dict__
    original = OpenAPISpecification.__dict__.get("_validate_spec")
    OpenAPISpecification._validate_spec = classmethod(lambda cls, spec: None)  # type: ignore[method-assign]
    try:
        yield
    finally:
        if had_own:
            OpenAPISpecification._validate_spec = original  # type: ignore[method-assign]
        else:
            del OpenAPISpecification._validate_spec


def _spec_files(directory: Path) -> tuple[tuple[str, bytes], ...]:
    paths = sorted(p for p in directory.rglob("*.yaml") if p.is_file())
    return tuple((p.relative_to(directory).as_posix(), p.read_bytes()) for p in paths)


@functools.lru_cache(maxsize=1)
def _checker() -> str:
    """What parses and checks the files is part of the key: a cache never outlives an upgrade of either."""
    from importlib.metadata import version

    return f"connexion {version('connexion')}, jsonschema {version('jsonschema')}, {_LOADER.__name__}"


def _digest(contents: tuple[tuple[str, bytes], ...]) -> str:
    h = hashlib.sha256(f"gosim-specs/{_CACHE_FORMAT}/{_checker()}".encode())
    for name, data in contents:
        h.update(f"\0{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


@functools.lru_cache(maxsize=4)
def _bundle_pickle(directory: Path, digest: str, cache_dir: Path | None, contents: tuple[tuple[str, bytes], ...]) -> bytes:
    """The bundle (pickled, so each caller unpickles its own copy): from the cache file when it holds this digest,
    else built, and written there when JSON carries it unchanged."""
    cache_file = cache_dir / "openapi-bundle.json" if cache_dir else None
    if cache_file is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            # The digest sits first on its own line, so a stale file costs no JSON parse.
            head, _, body = cache_file.read_text(encoding="utf-8").partition("\n")
            if head == digest and (data := _well_formed(body)) is not None:
                return pickle.dumps(data)
    data, cacheable = _build(directory, contents)
    if cache_file is not None and cacheable:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if json.loads(body) == data:  # not so for a YAML date or an integer key: such a bundle is rebuilt each start
            _write_atomically(cache_file, f"{digest}\n{body}")
    return pickle.dumps(data)


def _well_formed(body: str) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    ok = (isinstance(data, dict) and isinstance(data.get("specs"), dict) and isinstance(data.get("operations"), list)
          and all(isinstance(spec, dict) for spec in data["specs"].values()))
    return data if ok else None


def _build(directory: Path, contents: tuple[tuple[str, bytes], ...]) -> tuple[dict[str, Any], bool]:
    """The bundle from the bytes that were hashed, and whether it depends on nothing else (so may be cached)."""
    from connexion.spec import Specification

    docs = {(directory / name).resolve(): data for name, data in contents}
    parsed: dict[Path, Any] = {}
    outside: list[Path] = []

    def load(path: Path) -> Any:
        if path not in parsed:
            if path in docs:
                parsed[path] = _parse(docs[path].decode("utf-8"))
            else:  # a ref to a file the hash does not cover
                outside.append(path)
                parsed[path] = _parse(path.read_text(encoding="utf-8"))
        return parsed[path]

    specs: dict[str, dict[str, Any]] = {}
    for name in SPECS:
        path = (directory / f"{name}.yaml").resolve()
        if path in docs:
            specs[name] = _bundle(path, load)
            Specification.from_dict(copy.deepcopy(specs[name]))  # connexion's own check; raises InvalidSpecification
    operations: set[str] = set()
    for name, _ in contents:
        if "/" not in name:  # the top-level specs, as scenarios.loader.known_operations reads them
            for item in ((load((directory / name).resolve()) or {}).get("paths") or {}).values():
                for op in (item or {}).values():
                    if isinstance(op, dict) and op.get("operationId"):
                        operations.add(str(op["operationId"]))
    return {"specs": specs, "operations": sorted(operations)}, not outside


def _write_atomically(path: Path, text: str) -> None:
    """Another worker may start at the same moment: each writes its own temporary file and renames it into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".openapi-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only home or cache dir: serve without the file cache
