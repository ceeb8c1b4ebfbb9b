"""`--schema auto`: check each record against its own form's checker, and preference records by their rules.

Preference data is checked as LLaMA-Factory's `"ranking": true` reader takes it: the prompt
turns alternate user/observation and assistant/function_call, end on the user's side, and
`chosen` and `rejected` are both non-empty answers from the assistant's side.
"""

from __future__ import annotations

from typing import Any

from datacraft.records import (
    ASSISTANT,
    FUNCTION,
    OBSERVATION,
    USER,
    Drop,
    conversation,
    record_format,
    to_form,
)
from datacraft.validate.issues import EMPTY_FIELD, NOT_AN_OBJECT, TURN_ORDER, Issue, json_type

NAME = "auto"
_USER_SIDE, _ASSISTANT_SIDE = (USER, OBSERVATION), (ASSISTANT, FUNCTION)


def preference_errors(record: dict[str, Any]) -> list[Issue]:
    """Why a chosen/rejected record would not train as LLaMA-Factory ranking data (empty: it would)."""
    try:
        chat = conversation(record)
    except Drop as drop:
        field, _, message = drop.detail.partition(": ")
        return [Issue(field if message else "", message or drop.detail, drop.reason)]
    issues: list[Issue] = []
    for number, (role, _) in enumerate(chat.turns):
        side = _USER_SIDE if number % 2 == 0 else _ASSISTANT_SIDE
        if role not in side:
            issues.append(Issue(f"turn {number + 1}", f"{role} where a {side[0]} turn belongs", TURN_ORDER))
            break
    if len(chat.turns) % 2 == 0:
        issues.append(Issue("", "a preference prompt must end on the user's side; chosen/rejected answer it",
                            TURN_ORDER))
    for name, answer in (("chosen", chat.chosen), ("rejected", chat.rejected)):
        if answer is None or answer[0] not in _ASSISTANT_SIDE:
            issues.append(Issue(name, "must be an answer from the assistant (or a function call)", TURN_ORDER))
        elif not answer[1].strip():
            issues.append(Issue(name, "is empty", EMPTY_FIELD))
    return issues


class AutoChecker:
    """Calling it returns a record's issues against the checker of the record's own form."""

    def __init__(self, strict: bool = False):
        self.name = NAME
        self.strict = strict
        self._forms: dict[str, Any] = {}  # form -> its checker, looked up once (per record it was a third of the cost)

    def __call__(self, record: Any) -> list[Issue]:
        if not isinstance(record, dict):
            return [Issue("", f"expected a JSON object, got {json_type(record)}", NOT_AN_OBJECT)]
        if "chosen" in record or "rejected" in record:
            return preference_errors(record)
        form = record_format(record)
        if form == "openai" and _has_tool_calls(record):
            # LLaMA-Factory reads OpenAI files by role/content alone; export writes such records as
            # sharegpt, so that is the form they must be valid in.
            try:
                record = {**to_form(record, "sharegpt"), **{k: record[k] for k in ("id", "meta") if k in record}}
            except Drop as drop:
                return [Issue("messages", drop.detail, drop.reason)]
            form = "sharegpt"
        checker = self._forms.get(form)
        if checker is None:
            from datacraft.validate.checker import get_checker

            checker = self._forms[form] = get_checker(form, self.strict)
        return checker(record)


def _has_tool_calls(record: dict[str, Any]) -> bool:
    messages = record.get("messages")
    return isinstance(messages, list) and any(isinstance(m, dict) and m.get("tool_calls") for m in messages)
