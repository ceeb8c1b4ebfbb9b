"""Find and load a schema: a bundled name (schemas/<name>.schema.json) or a path to a JSON Schema file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from datacraft.errors import SchemaError
from datacraft.resources import resource_dir

BUNDLED = ("alpaca", "sharegpt", "openai")
# Keywords that describe but never constrain: editing them does not change what is valid.
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment", "deprecated"})
# Keywords whose value maps names to subschemas (a property may be called "title").
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_LITERALS = frozenset({"enum", "const"})
# sha256 of each bundled schema as shipped (`_digest`), which jsonschema's meta-schema accepts
# (tests/validate pins both): a bundled file that still reads so needs no check, and validate no jsonschema.
_SHIPPED = {
    "alpaca": "1f3e569fcd884b515e5c52d4047906c51b61bd2116d442de03873fee4c4674df",
    "sharegpt": "d8aea0d9657393f19394b2d124447f0c58d0d9c73d284b0f9c0573cf6b30bc42",
    "openai": "4f29ae1c3712b476220cc551504925684ae1011caca4fc32b4c250c9291f8258",
}


def bundled_path(name: str) -> Path:
    """The file of a bundled schema."""
    return resource_dir("schemas") / f"{name}.schema.json"


def load_schema(schema: str) -> tuple[str, dict[str, Any]]:
    """Return (name, JSON Schema document) for a bundled name or a path; the name of a path is ""."""
    if schema in BUNDLED:
        name, path = schema, str(bundled_path(schema))
    elif os.path.isfile(schema):
        name, path = "", schema
    else:
        raise SchemaError(f"unknown schema {schema!r}; choose {', '.join(BUNDLED)} "
                          "or a path to a JSON Schema file")
    try:
        with open(path, encoding="utf-8-sig") as handle:
            document = json.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{path}: cannot read the schema ({exc})") from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}:{exc.lineno}: the schema is not valid JSON: {exc.msg}") from None
    if not isinstance(document, (dict, bool)):
        raise SchemaError(f"{path}: a JSON Schema must be an object (or true/false), got {type(document).__name__}")
    if name and _digest(document) == _SHIPPED.get(name):
        return name, document
    # jsonschema takes 0.1 s to import: only for a schema not checked before
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError as JsonSchemaError

    try:
        Draft202012Validator.check_schema(document)
    except JsonSchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise SchemaError(f"{path}: not a valid Draft 2020-12 schema at {where}: {exc.message}") from None
    return name, document


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode("utf-8")).hexdigest()


def fingerprint(document: Any) -> str:
    """sha256 of a schema without its annotations, so rewording a description keeps the fast path.

    >>> fingerprint({"type": "string", "title": "A"}) == fingerprint({"type": "string"})
    True
    """
    canonical = json.dumps(_strip(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _strip(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS:
            continue
        if key in _NAME_MAPS and isinstance(value, dict):
            out[key] = {name: _strip(sub) for name, sub in value.items()}
        elif key in _LITERALS:
            out[key] = value
        else:
            out[key] = _strip(value)
    return out
