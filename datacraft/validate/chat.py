"""Checks shared by the two chat layouts (ShareGPT `conversations`, OpenAI `messages`).

The schema part mirrors the JSON Schema exactly. The rules part is what LLaMA-Factory's
SharegptDatasetConverter enforces before it silently drops a sample ("Cannot find valid samples"):
after an optional leading system turn, turns alternate user-side (user, observation) and
assistant-side (assistant, function call), and the count must be even, i.e. end on the assistant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from datacraft.validate.issues import (
    EMPTY_FIELD,
    ENDS_ON_USER,
    MISSING,
    MISSING_FIELD,
    MISSING_TURNS,
    PREFERENCE_DATA,
    TURN_ORDER,
    UNKNOWN_ROLE,
    Issue,
    provenance_errors,
    shape_hint,
    text_issue,
    wrong_type,
)

Check = Callable[[dict[str, Any]], list[Issue]]


@dataclass(frozen=True)
class ChatLayout:
    """Where a chat layout keeps its turns, and which role goes where."""

    name: str  # the --schema name
    messages: str  # the list of turns
    role: str  # key of a turn's role
    content: str  # key of a turn's text
    user_side: tuple[str, ...]  # roles allowed at turns 1, 3, 5... (after a leading system turn)
    assistant_side: tuple[str, ...]  # roles allowed at turns 2, 4, 6...
    system: str
    other: tuple[str, str]  # (role key, schema name) of the other layout, for a hint

    role_tuple: tuple[str, ...] = field(init=False)  # every role, in a readable order
    roles: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "role_tuple", (*self.user_side, *self.assistant_side, self.system))
        object.__setattr__(self, "roles", frozenset(self.role_tuple))


def turns_valid(layout: ChatLayout, rec: dict[str, Any], rules: bool) -> bool:
    """True when every turn is well-formed (and, with `rules`, in LLaMA-Factory's order).

    Exact classes only: anything unusual takes the slow path, which is the authority.
    """
    turns = rec.get(layout.messages)
    if turns.__class__ is not list or not turns:
        return False
    # A tuple, not the frozenset: `in` then compares with ==, so an unhashable role is just not found.
    role_key, text_key, roles = layout.role, layout.content, layout.role_tuple
    if rules:
        if "chosen" in rec and "rejected" in rec:
            return False
        first = turns[0]
        start = 1 if first.__class__ is dict and first.get(role_key) == layout.system else 0
        if (len(turns) - start) % 2 or len(turns) == start:
            return False
        sides = (layout.user_side, layout.assistant_side)
    for i, turn in enumerate(turns):
        if turn.__class__ is not dict:
            return False
        role = turn.get(role_key)
        if rules and i >= start:
            if role not in sides[(i - start) & 1]:
                return False
        elif role not in roles:
            return False
        if role.__class__ is not str:
            return False
        text = turn.get(text_key)
        if text.__class__ is not str or not text or text.isspace():
            return False
    return True


def schema_errors(layout: ChatLayout, rec: dict[str, Any]) -> list[Issue]:
    """The schema's issues with the turn list, found the slow, thorough way."""
    errors: list[Issue] = []
    field = layout.messages
    turns = rec.get(field, MISSING)
    if turns is MISSING:
        errors.append(Issue(field, f"missing required field{shape_hint(rec, layout.name)}", MISSING_FIELD))
    elif not isinstance(turns, list):
        errors.append(wrong_type(field, turns, "an array of turns"))
    elif not turns:
        errors.append(Issue(field, "is empty", EMPTY_FIELD))
    else:
        for i, turn in enumerate(turns):
            errors.extend(_turn_errors(layout, f"{field}[{i}]", turn))
    return errors


def _turn_errors(layout: ChatLayout, where: str, turn: Any) -> list[Issue]:
    if not isinstance(turn, dict):
        return [wrong_type(where, turn, f"an object with `{layout.role}` and `{layout.content}`")]
    errors: list[Issue] = []
    role = turn.get(layout.role, MISSING)
    if role is MISSING:
        other_key, other_name = layout.other
        hint = (f" (the turn has `{other_key}`: that is the {other_name} layout, try --schema {other_name})"
                if other_key in turn else "")
        errors.append(Issue(f"{where}.{layout.role}", f"missing required field{hint}", MISSING_FIELD))
    elif not isinstance(role, str):
        errors.append(wrong_type(f"{where}.{layout.role}", role, "a string"))
    elif role not in layout.roles:
        errors.append(Issue(f"{where}.{layout.role}",
                            f"unknown role {role!r}; expected {_choices(layout.role_tuple)}", UNKNOWN_ROLE))
    text = turn.get(layout.content, MISSING)
    if not (isinstance(text, str) and text and not text.isspace()):
        errors.append(text_issue(f"{where}.{layout.content}", text))
    return errors


def rule_errors(layout: ChatLayout, rec: dict[str, Any]) -> list[Issue]:
    """LLaMA-Factory's rules: turn order, an even count, not ending on the user; preference data."""
    field = layout.messages
    if "chosen" in rec and "rejected" in rec:
        return [Issue("chosen", "the record has `chosen`/`rejected`: this is preference (DPO) data, which "
                      "LLaMA-Factory reads with \"ranking\": true; validate checks supervised fine-tuning "
                      "data only", PREFERENCE_DATA)]
    turns = rec.get(field)
    if not isinstance(turns, list) or not turns:
        return []
    found = []
    for turn in turns:
        role = turn.get(layout.role) if isinstance(turn, dict) else None
        if not (isinstance(role, str) and role in layout.roles):
            return []  # the schema part has reported it; order means nothing without roles
        found.append(role)
    start = 1 if found[0] == layout.system else 0
    body = found[start:]
    if not body:
        return [Issue(field, "has only a system turn: a sample needs a user turn and an assistant turn",
                      MISSING_TURNS)]
    for i, role in enumerate(body):
        expected = layout.user_side if i % 2 == 0 else layout.assistant_side
        if role not in expected:
            where = f"{field}[{i + start}].{layout.role}"
            if role == layout.system:
                message = "a system turn may only come first"
            else:
                message = (f"{role!r} where {_choices(expected)} is expected: after an optional system "
                           f"turn, turns alternate {'/'.join(layout.user_side)} and "
                           f"{'/'.join(layout.assistant_side)}")
            return [Issue(where, message, TURN_ORDER)]
    if len(body) % 2:
        return [Issue(field, f"ends on a {body[-1]!r} turn: the last turn must be "
                      f"{_choices(layout.assistant_side)}, or LLaMA-Factory drops the sample", ENDS_ON_USER)]
    return []


def make_checks(layout: ChatLayout, fields_valid: Callable[[dict[str, Any]], bool],
                field_errors: Callable[[dict[str, Any], list[Issue]], None]) -> tuple[Check, Check, Check, Check]:
    """(schema_errors, rule_errors, check, explain) for one layout: a fast path for valid records
    (turns plus the layout's other fields), then the thorough explainer for the rest."""

    def explain(rec: dict[str, Any]) -> list[Issue]:
        errors = schema_errors(layout, rec)
        field_errors(rec, errors)
        provenance_errors(rec, errors)
        return errors

    def schema_only(rec: dict[str, Any]) -> list[Issue]:
        if turns_valid(layout, rec, rules=False) and fields_valid(rec):
            return []
        return explain(rec)

    def rules(rec: dict[str, Any]) -> list[Issue]:
        return rule_errors(layout, rec)

    def check(rec: dict[str, Any]) -> list[Issue]:
        if turns_valid(layout, rec, rules=True) and fields_valid(rec):
            return []
        return explain(rec) + rule_errors(layout, rec)

    return schema_only, rules, check, explain


def _choices(names: tuple[str, ...] | list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
