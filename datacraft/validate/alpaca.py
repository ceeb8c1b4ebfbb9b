"""Hand-written checks for schemas/alpaca.schema.json: same verdicts as jsonschema, many times faster.

A tight predicate says "valid" for the common case; anything else goes to the explainer, which is
the authority and says what is wrong. LLaMA-Factory's AlpacaDatasetConverter drops a sample whose
`output` is not a string and fails on history entries that are not [user, assistant] pairs; both are
in the schema, so Alpaca needs no rules beyond it.
"""

from __future__ import annotations

from typing import Any

from datacraft.validate.issues import (
    BAD_HISTORY_PAIR,
    MISSING,
    Issue,
    json_type,
    optional_strings,
    provenance_errors,
    provenance_valid,
    text_issue,
    wrong_type,
)

NAME = "alpaca"
# sha256 of the schema file without annotations (see schemas.fingerprint): if the file changes,
# this checker no longer describes it, and datacraft falls back to jsonschema until it is updated.
SCHEMA_SHA256 = "3e9e2a966e0de53c88945392a13be3d7e9a324bb5e1cdf9c2505db464eeea49e"


def is_valid(rec: dict[str, Any]) -> bool:
    """True when `rec` is valid (checking exact classes: a str subclass takes the slow path)."""
    get = rec.get
    text = get("instruction")
    if text.__class__ is not str or not text or text.isspace():
        return False
    text = get("output")
    if text.__class__ is not str or not text or text.isspace():
        return False
    value = get("input")
    if value is not None and value.__class__ is not str:
        return False
    value = get("system")
    if value is not None and value.__class__ is not str:
        return False
    value = get("tools")
    if value is not None and value.__class__ is not str:
        return False
    history = get("history")
    if history is not None:
        if history.__class__ is not list:
            return False
        for pair in history:
            if pair.__class__ is not list or len(pair) != 2 or pair[0].__class__ is not str \
                    or pair[1].__class__ is not str:
                return False
    return provenance_valid(rec)


def schema_errors(rec: dict[str, Any]) -> list[Issue]:
    """Everything alpaca.schema.json says about `rec`, as issues (empty: valid)."""
    return [] if is_valid(rec) else explain(rec)


def rule_errors(rec: dict[str, Any]) -> list[Issue]:
    """LLaMA-Factory rules beyond the schema: none for Alpaca (see the module docstring)."""
    return []


check = schema_errors  # schema + rules


def explain(rec: dict[str, Any]) -> list[Issue]:
    """The schema's issues with `rec`, found the slow, thorough way."""
    errors: list[Issue] = []
    for name in ("instruction", "output"):
        value = rec.get(name, MISSING)
        if not (isinstance(value, str) and value and not value.isspace()):
            # Only the first missing field carries the "looks like another format" hint.
            errors.append(text_issue(name, value, None if errors else rec, NAME))
    optional_strings(rec, ("input", "system", "tools"), errors)
    history = rec.get("history")
    if history is not None:
        if not isinstance(history, list):
            # bad_history, not bad_type: one code for a broken history, in every stage
            errors.append(wrong_type("history", history, "an array of [user, assistant] pairs")._replace(
                kind=BAD_HISTORY_PAIR))
        else:
            for i, pair in enumerate(history):
                if not (isinstance(pair, list) and len(pair) == 2
                        and isinstance(pair[0], str) and isinstance(pair[1], str)):
                    errors.append(Issue(f"history[{i}]", _pair_problem(pair), BAD_HISTORY_PAIR))
    provenance_errors(rec, errors)
    return errors


def _pair_problem(pair: Any) -> str:
    expected = "expected a [user, assistant] pair of strings"
    if not isinstance(pair, list):
        return f"{expected}, got {json_type(pair)}"
    if len(pair) != 2:
        return f"{expected}, got an array of {len(pair)} item{'s' if len(pair) != 1 else ''}"
    bad = next(x for x in pair if not isinstance(x, str))
    return f"{expected}, got {json_type(bad)} in the pair"
