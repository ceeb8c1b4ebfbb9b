"""Hand-written checks for schemas/sharegpt.schema.json and LLaMA-Factory's ShareGPT rules.

The layout is LLaMA-Factory's default ShareGPT one (dataset_info without `tags`): `conversations`,
turns `{"from", "value"}`, roles human / gpt / observation / function_call / system. A file whose turns
use `role`/`content` is the OpenAI layout: check it with --schema openai.
"""

from __future__ import annotations

from typing import Any

from datacraft.validate import chat
from datacraft.validate.issues import Issue, optional_strings, provenance_valid

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
    return provenance_valid(rec)


def _field_errors(rec: dict[str, Any], errors: list[Issue]) -> None:
    # `tools` is a JSON string of tool definitions: LLaMA-Factory json.loads it itself.
    optional_strings(rec, ("system", "tools"), errors)


# What sharegpt.schema.json says (schema_errors), LLaMA-Factory's turn rules (rule_errors), both in one pass for
# the common valid record (check), and the thorough explainer behind them (explain).
schema_errors, rule_errors, check, explain = chat.make_checks(LAYOUT, _fields_valid, _field_errors)
