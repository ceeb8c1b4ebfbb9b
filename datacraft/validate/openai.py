"""Hand-written checks for schemas/openai.schema.json (OpenAI chat fine-tuning layout).

Turns are `{"role", "content"}` with role system / user / assistant / tool; a `tool` result sits where
a user turn would (LLaMA-Factory's observation). Content must be a non-blank string: an assistant
turn that only carries `tool_calls` (content null) is not supported.
"""

from __future__ import annotations

from typing import Any

from datacraft.validate import chat
from datacraft.validate.issues import Issue, provenance_valid, wrong_type

NAME = "openai"
LAYOUT = chat.ChatLayout(
    name=NAME, messages="messages", role="role", content="content",
    user_side=("user", "tool"), assistant_side=("assistant",), system="system",
    other=("from", "sharegpt"),
)
# Fingerprint of the schema this checker implements (see alpaca.py).
SCHEMA_SHA256 = "45af7c6aaff35bbb18b4c68b5911f5e03fa48c1aacf11dfcf29d921b67ebfe8c"


def _fields_valid(rec: dict[str, Any]) -> bool:
    get = rec.get
    value = get("tools")
    if value is not None and value.__class__ is not list:
        return False
    return provenance_valid(rec)


def _field_errors(rec: dict[str, Any], errors: list[Issue]) -> None:
    tools = rec.get("tools")
    if tools is not None and not isinstance(tools, list):
        errors.append(wrong_type("tools", tools, "an array of tool definitions"))


# What openai.schema.json says (schema_errors), LLaMA-Factory's turn rules (rule_errors), both in one pass for
# the common valid record (check), and the thorough explainer behind them (explain).
schema_errors, rule_errors, check, explain = chat.make_checks(LAYOUT, _fields_valid, _field_errors)
