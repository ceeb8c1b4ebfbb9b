"""Hand-written checks for schemas/sharegpt.schema.json and LLaMA-Factory's ShareGPT rules.

The layout is LLaMA-Factory's default ShareGPT one (dataset_info without `tags`): `conversations`,
turns `{"from", "value"}`, roles human / gpt / observation / function_call / system. A file whose turns
use `role`/`content` is the OpenAI layout: check it with --schema openai.
"""

from __future__ import annotations

from typing import Any

from datacraft.validate import chat
from datacraft.validate.issues import MISSING, Issue, optional_strings, provenance_errors

NAME = "sharegpt"
LAYOUT = chat.ChatLayout(
    name=NAME, messages="conversations", role="from", content="value",
    user_side=("human", "observation"), assistant_side=("gpt", "function_call"), system="system",
    other=("role", "openai"),
)
# Fingerprint of the schema this checker implements (see alpaca.py).
SCHEMA_SHA256 = "f812fc8e316e64e8b307297ce770b9ece137118cd876dd1d5b25c6e2c75e35ee"


def _fields_valid(rec: dict[str, Any]) -> bool:
    get = rec.get
    value = get("system")
    if value is not None and value.__class__ is not str:
        return False
    value = get("tools")
    if value is not None and value.__class__ is not str:
        return False
    value = get("id", MISSING)
    if value is not MISSING and (value.__class__ is not str or not value):
        return False
    value = get("meta", MISSING)
    return value is MISSING or value.__class__ is dict


def schema_errors(rec: dict[str, Any]) -> list[Issue]:
    """Everything sharegpt.schema.json says about `rec`, as issues (empty: valid)."""
    if chat.turns_valid(LAYOUT, rec, rules=False) and _fields_valid(rec):
        return []
    return explain(rec)


def rule_errors(rec: dict[str, Any]) -> list[Issue]:
    """LLaMA-Factory's ShareGPT rules beyond the schema (turn order, count, last turn)."""
    return chat.rule_errors(LAYOUT, rec)


def check(rec: dict[str, Any]) -> list[Issue]:
    """Schema and rules in one pass for the common (valid) case."""
    if chat.turns_valid(LAYOUT, rec, rules=True) and _fields_valid(rec):
        return []
    return explain(rec) + rule_errors(rec)


def explain(rec: dict[str, Any]) -> list[Issue]:
    """The schema's issues with `rec`, found the slow, thorough way."""
    errors = chat.schema_errors(LAYOUT, rec)
    # `tools` is a JSON string of tool definitions: LLaMA-Factory json.loads it itself.
    optional_strings(rec, ("system", "tools"), errors)
    provenance_errors(rec, errors)
    return errors
