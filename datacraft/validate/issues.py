"""What a validation problem looks like, and the small helpers every checker shares."""

from __future__ import annotations

from typing import Any, NamedTuple

from datacraft import records as _codes

# Error kinds (snake_case, stable: they are the keys of the report's counts). The structural ones
# are datacraft.records' codes, so clean, export and validate name one defect alike.
MISSING_FIELD = _codes.MISSING_FIELD
WRONG_TYPE = _codes.BAD_TYPE
EMPTY_FIELD = _codes.EMPTY_FIELD
BAD_HISTORY_PAIR = _codes.BAD_HISTORY
UNKNOWN_ROLE = _codes.BAD_TURN
TURN_ORDER = _codes.TURN_ORDER
ENDS_ON_USER = _codes.ENDS_ON_USER
MISSING_TURNS = "missing_turns"
PREFERENCE_DATA = _codes.PREFERENCE_DATA
UNKNOWN_FIELD = "unknown_field"
WHITESPACE_ONLY = "whitespace_only"
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
NO_RECORDS = "no_records"

PROVENANCE = ("id", "meta")
MISSING: Any = object()  # `dict.get` default that tells "absent" from "null"


class Issue(NamedTuple):
    """One problem in one record: the field (a path such as `history[2]`), a message, a kind."""

    field: str
    message: str
    kind: str


class ValidationIssue(NamedTuple):
    """An Issue located in a file: printed as `path:line: field: message`."""

    path: str
    line: int
    field: str
    message: str
    kind: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


_JSON_TYPES = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string",
               list: "array", dict: "object"}


def json_type(value: Any) -> str:
    """The JSON name of a value's type.

    >>> json_type(True), json_type(3), json_type(None), json_type([1])
    ('boolean', 'integer', 'null', 'array')
    """
    return _JSON_TYPES.get(type(value)) or type(value).__name__


def wrong_type(field: str, value: Any, expected: str) -> Issue:
    """A wrong_type issue that shows what was found (scalars with a short preview).

    >>> wrong_type("output", 42, "a string").message
    'expected a string, got integer 42'
    """
    got = json_type(value)
    if isinstance(value, (bool, int, float)) or value is None:
        got = f"{got} {_preview(value)}" if value is not None else got
    elif isinstance(value, (list, dict)):
        got = f"{got} of {len(value)} item{'s' if len(value) != 1 else ''}"
    return Issue(field, f"expected {expected}, got {got}", WRONG_TYPE)


def _preview(value: Any, limit: int = 40) -> str:
    text = repr(value) if not isinstance(value, bool) else ("true" if value else "false")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def text_issue(field: str, value: Any, rec: dict[str, Any] | None = None, schema: str = "") -> Issue:
    """The issue for a required text field that is absent, not a string, empty or blank."""
    if value is MISSING:
        hint = shape_hint(rec, schema) if rec is not None else ""
        return Issue(field, f"missing required field{hint}", MISSING_FIELD)
    if not isinstance(value, str):
        return wrong_type(field, value, "a string")
    return Issue(field, "is empty" if not value else "is only whitespace", EMPTY_FIELD)


def shape_hint(rec: dict[str, Any], schema: str) -> str:
    """A hint when a record looks like another format than the one being checked.

    >>> shape_hint({"conversations": []}, "alpaca")
    ' (the record has `conversations`: try --schema sharegpt)'
    """
    if "chosen" in rec and "rejected" in rec:
        return (" (the record has `chosen`/`rejected`: this looks like preference (DPO) data; "
                "validate checks supervised fine-tuning data only)")
    for key, name in (("conversations", "sharegpt"), ("messages", "openai"), ("instruction", "alpaca")):
        if key in rec and schema != name:
            return f" (the record has `{key}`: try --schema {name})"
    return ""


def provenance_valid(rec: dict[str, Any]) -> bool:
    """The fast form of `provenance_errors`: `id` absent or a non-empty str, `meta` absent or a dict."""
    value = rec.get("id", MISSING)
    if value is not MISSING and (value.__class__ is not str or not value):
        return False
    value = rec.get("meta", MISSING)
    return value is MISSING or value.__class__ is dict


def provenance_errors(rec: dict[str, Any], errors: list[Issue]) -> None:
    """Check the optional `id` (non-empty string) and `meta` (object) every schema allows."""
    rid = rec.get("id", MISSING)
    if rid is not MISSING and not (isinstance(rid, str) and rid):
        errors.append(Issue("id", "is empty", EMPTY_FIELD) if isinstance(rid, str)
                      else wrong_type("id", rid, "a string"))
    meta = rec.get("meta", MISSING)
    if meta is not MISSING and not isinstance(meta, dict):
        errors.append(wrong_type("meta", meta, "an object"))


def optional_strings(rec: dict[str, Any], names: tuple[str, ...], errors: list[Issue]) -> None:
    """Fields that may be absent or null, and otherwise must be strings."""
    for name in names:
        value = rec.get(name)
        if value is not None and not isinstance(value, str):
            errors.append(wrong_type(name, value, "a string"))
