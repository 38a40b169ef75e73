"""Loads the OpenAPI documents in openapi/ and bundles their cross-file $refs into one self-contained dict each."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from .settings import resource_path

SPECS = ("idp", "citizen", "payments", "admin", "ops")


def spec_dir() -> Path:
    return resource_path("openapi")


@functools.lru_cache(maxsize=None)
def _load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _pointer(doc: Any, pointer: str) -> Any:
    for part in [p for p in pointer.lstrip("/").split("/") if p]:
        doc = doc[part.replace("~1", "/").replace("~0", "~")]
    return doc


def load_spec(name: str) -> dict[str, Any]:
    """The named spec with every ``other.yaml#/X/Y`` ref copied into its own ``components`` section.

    Shared pieces (the problem schema, common parameters) are written once in openapi/components/ and referenced
    by file, which keeps each YAML file valid on its own; clients, Swagger UI and schemathesis get one document.
    """
    root = (spec_dir() / f"{name}.yaml").resolve()
    spec = copy.deepcopy(_load_yaml(root))
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
                    bucket[local_name] = walk(copy.deepcopy(_pointer(_load_yaml(target_file), pointer)), target_file)
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
