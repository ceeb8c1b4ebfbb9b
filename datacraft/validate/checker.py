"""One schema, ready to check records: the hand-written fast path (or jsonschema), rules, --strict."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from types import ModuleType
from typing import Any

from datacraft.validate import alpaca, openai, sharegpt
from datacraft.validate.auto import AutoChecker
from datacraft.validate.issues import (
    EMPTY_FIELD,
    MISSING_FIELD,
    NOT_AN_OBJECT,
    PROVENANCE,
    UNKNOWN_FIELD,
    WHITESPACE_ONLY,
    WRONG_TYPE,
    Issue,
    json_type,
)
from datacraft.validate.schemas import fingerprint, load_schema

FAST_CHECKERS: dict[str, ModuleType] = {m.NAME: m for m in (alpaca, sharegpt, openai)}
# jsonschema keyword -> our error kind, for schemas given as a path.
_KINDS = {
    "required": MISSING_FIELD, "type": WRONG_TYPE, "additionalProperties": UNKNOWN_FIELD,
    "unevaluatedProperties": UNKNOWN_FIELD, "enum": "bad_value", "const": "bad_value",
    "minLength": "too_short", "maxLength": "too_long", "pattern": "pattern_mismatch",
    "minItems": "too_few_items", "maxItems": "too_many_items", "minimum": "out_of_range",
    "maximum": "out_of_range", "exclusiveMinimum": "out_of_range", "exclusiveMaximum": "out_of_range",
}
_MESSAGE_LIMIT = 200


class Checker:
    """Checks records against one schema; calling it returns a record's issues (empty: valid).

    Bundled schemas use their hand-written checker while its fingerprint matches the schema file
    (else jsonschema, same verdicts, slower), then LLaMA-Factory's rules. A schema given as a path
    is checked by jsonschema (Draft 2020-12) alone.
    """

    def __init__(self, schema: str = "alpaca", strict: bool = False):
        self.name, self.document = load_schema(schema)
        module = FAST_CHECKERS.get(self.name)
        self.fast = module is not None and fingerprint(self.document) == module.SCHEMA_SHA256
        self._validator: Any = None  # jsonschema's, built when first needed (its import is 0.1 s)
        self.schema_errors: Callable[[dict[str, Any]], list[Issue]] = (
            module.schema_errors if self.fast else self._jsonschema_errors)
        if self.fast:
            self._check = module.check  # schema and rules in one pass
        elif module is not None:
            self._check = lambda record: self._jsonschema_errors(record) + module.rule_errors(record)
        else:
            self._check = self._jsonschema_errors
        self.strict = strict
        props = self.document.get("properties") if isinstance(self.document, dict) else None
        # Without `properties` the schema names no fields, so none can be called unknown.
        self.allowed = frozenset(props) | frozenset(PROVENANCE) if isinstance(props, dict) else None

    def __call__(self, record: Any) -> list[Issue]:
        if not isinstance(record, dict):
            return [Issue("", f"expected a JSON object, got {json_type(record)}", NOT_AN_OBJECT)]
        errors = self._check(record)
        if self.strict:
            errors += strict_errors(record, self.allowed, {e.field for e in errors})
        return errors

    def _jsonschema_errors(self, record: dict[str, Any]) -> list[Issue]:
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(self.document)
        return [_issue(err) for err in self._validator.iter_errors(record)]


@lru_cache(maxsize=16)
def get_checker(schema: str = "alpaca", strict: bool = False) -> Checker | AutoChecker:
    """A cached Checker (building one reads and checks the schema file); "auto": each record's own form."""
    if schema == "auto":
        return AutoChecker(strict)
    return Checker(schema, strict)


def validate_record(record: Any, schema: str = "alpaca", strict: bool = False) -> list[Issue]:
    """The issues of one record (field, message, kind); an empty list means valid.

    >>> [i.kind for i in validate_record({"instruction": "Hi", "output": 3})]
    ['bad_type']
    """
    return get_checker(schema, strict)(record)


def strict_errors(record: dict[str, Any], allowed: frozenset[str] | None, reported: set[str]) -> list[Issue]:
    """--strict: fields the schema does not name (besides id/meta), and whitespace-only strings."""
    errors: list[Issue] = []
    if allowed is not None:
        for key in record:
            if key not in allowed:
                errors.append(Issue(key, f"unknown field (allowed: {', '.join(sorted(allowed))}); drop it "
                                    "or rename it with --map", UNKNOWN_FIELD))
    for field, text in _strings(record, allowed):
        if text.isspace() and field not in reported:
            errors.append(Issue(field, "is only whitespace", WHITESPACE_ONLY))
    return errors


def _strings(record: dict[str, Any], allowed: frozenset[str] | None) -> Iterator[tuple[str, str]]:
    """(field path, string) for every string in the record's known fields; `meta` is free-form."""
    stack: list[tuple[str, Any]] = [(key, value) for key, value in record.items()
                                    if key != "meta" and (allowed is None or key in allowed)]
    while stack:
        field, value = stack.pop()
        if isinstance(value, str):
            yield field, value
        elif isinstance(value, dict):
            stack.extend((f"{field}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{field}[{i}]", v) for i, v in enumerate(value))


def _issue(err: Any) -> Issue:
    """A jsonschema ValidationError as an Issue."""
    field = field_path(err.absolute_path)
    kind = _KINDS.get(err.validator, "schema_violation")
    message = err.message
    if err.validator == "required":
        missing = next((p for p in err.validator_value if isinstance(err.instance, dict) and p not in err.instance
                        and err.message.startswith(repr(p))), None)
        if missing is not None:
            field, message = (f"{field}.{missing}" if field else missing), "missing required field"
    elif err.validator == "type":
        message = f"expected {_types(err.validator_value)}, got {json_type(err.instance)}"
    elif err.validator == "minLength" and err.instance == "":
        kind, message = EMPTY_FIELD, "is empty"
    if len(message) > _MESSAGE_LIMIT:  # jsonschema quotes the whole value, which may be megabytes
        message = message[: _MESSAGE_LIMIT - 3] + "..."
    return Issue(field, message, kind)


def _types(expected: str | list[str]) -> str:
    return expected if isinstance(expected, str) else " or ".join(expected)


def field_path(parts: Iterable[Any]) -> str:
    """A JSON path as a field name.

    >>> field_path(["conversations", 2, "from"])
    'conversations[2].from'
    """
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
