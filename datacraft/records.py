"""The one record model: a conversation of role-tagged turns, with Alpaca, ShareGPT and OpenAI as its forms.

Records travel between stages as plain dicts in the form they were read in (a 10-million-line
file streams without conversion, and `clean` writes back what it read). Every stage sees them
through one canonical view: `conversation(record)` (system, tools, role-tagged turns, preference
answers) and `texts(record)` / `map_texts(record, fn)` (each string with its role and its
Alpaca-view field). Conversion between forms happens at the edges: `to_form(record, "sharegpt")`.

Roles: system, user, assistant, function (a tool call: JSON text), observation (a tool's result).
The Alpaca fields are a view of a conversation: `instruction` (+ `input`) is the last user turn,
`output` the answer after it, `history` the earlier turns, `chosen`/`rejected` the two answers of
a preference record, and `kto_tag` KTO's verdict on `output`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]

ALPACA_FIELDS = ("instruction", "input", "output", "system", "history")
TEXT_FIELDS = ("instruction", "input", "output")
PROVENANCE_FIELDS = ("id", "meta")
FORMS = ("alpaca", "sharegpt", "openai")
SYSTEM, USER, ASSISTANT, FUNCTION, OBSERVATION, TOOLS = "system", "user", "assistant", "function", "observation", "tools"
TOOL_ROLES = frozenset((FUNCTION, OBSERVATION, TOOLS))  # JSON payloads: no prose rules apply
PREFERENCE_FIELDS = ("chosen", "rejected")
# Every text slot of the view, in the order dedupe joins them (Alpaca's three first, as before).
COMPARE_FIELDS = ("instruction", "input", "output", "system", "history", "function", "observation", "tools",
                  "chosen", "rejected")
FIELD_SEP = "\x00"  # joins compared fields: survives dedupe's normalisation, so "a|bc" and "ab|c" differ

# LLaMA-Factory's default ShareGPT tags (data/parser.py DatasetAttr) and OpenAI chat roles.
SHAREGPT_TAGS = {USER: "human", ASSISTANT: "gpt", FUNCTION: "function_call", OBSERVATION: "observation"}
OPENAI_ROLES = {USER: "user", ASSISTANT: "assistant"}
_FROM_SHAREGPT = {v: k for k, v in SHAREGPT_TAGS.items()}
_FROM_OPENAI = {"user": USER, "assistant": ASSISTANT, "function": FUNCTION, "tool": OBSERVATION,
                "function_call": FUNCTION, "observation": OBSERVATION}

# One reason per defect, whichever stage meets it (see `Drop`).
MISSING_FIELD = "missing_field"
EMPTY_FIELD = "empty_field"  # a required text (field or turn) that is empty or blank; the detail names it
BAD_TYPE = "bad_type"
BAD_HISTORY = "bad_history"
BAD_TURN = "bad_turn"
TURN_ORDER = "turn_order"  # turns do not alternate prompt and answer
ENDS_ON_USER = "ends_on_user"  # the conversation ends on the prompt: no answer to learn
UNCONVERTIBLE = "unconvertible"
PREFERENCE_DATA = "preference_data"  # chosen/rejected where supervised (SFT) records are expected


class Drop(Exception):
    """A record cannot go on: `reason` is a snake_case code shared by every stage, `detail` says what."""

    def __init__(self, reason: str, detail: str = "", **extra: Any):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.extra = extra


@dataclass
class Conversation:
    """The canonical form: system prompt, tools (JSON text), (role, text) turns, preference answers."""

    turns: list[tuple[str, str]]
    system: str = ""
    tools: str = ""
    chosen: tuple[str, str] | None = None
    rejected: tuple[str, str] | None = None
    kto_tag: bool | None = None


def record_format(record: Record) -> str:
    """Which form a record has: "sharegpt" (conversations), "openai" (messages) or "alpaca".

    >>> record_format({"messages": []}), record_format({"instruction": "Hi", "output": "Hello"})
    ('openai', 'alpaca')
    """
    if "conversations" in record:
        return "sharegpt"
    if "messages" in record:
        return "openai"
    return "alpaca"


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Drop(BAD_TYPE, f"{what}: expected a string, got {type(value).__name__}")
    return value


def _tools(value: Any) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    # LLaMA-Factory stores tools as a JSON string; OpenAI's list of tool objects is serialised so.
    return json.dumps(value, ensure_ascii=False)


def _kto(record: Record) -> bool | None:
    tag = record.get("kto_tag")
    if tag is not None and not isinstance(tag, bool):
        raise Drop(BAD_TYPE, f"kto_tag: expected true or false, got {type(tag).__name__}")
    return tag


def alpaca_conversation(record: Record) -> Conversation:
    """Read an Alpaca record (history pairs first, then the prompt) into the canonical form."""
    turns: list[tuple[str, str]] = []
    history = record.get("history") or []
    if not isinstance(history, list):
        raise Drop(BAD_HISTORY, f"history: expected a list of [prompt, response] pairs, got {type(history).__name__}")
    for number, pair in enumerate(history, start=1):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(s, str) for s in pair)):
            raise Drop(BAD_HISTORY, f"history[{number}]: expected a [prompt, response] pair of strings")
        turns += [(USER, pair[0]), (ASSISTANT, pair[1])]
    prompt = [_text(record.get("instruction"), "instruction"), _text(record.get("input"), "input")]
    turns.append((USER, "\n".join(p for p in prompt if p)))
    chat = Conversation(turns, _text(record.get("system"), "system"), _tools(record.get("tools")),
                        kto_tag=_kto(record))
    if "chosen" in record or "rejected" in record:
        chat.chosen = (ASSISTANT, _text(record.get("chosen"), "chosen"))
        chat.rejected = (ASSISTANT, _text(record.get("rejected"), "rejected"))
    else:
        turns.append((ASSISTANT, _text(record.get("output"), "output")))
    return chat


def _tool_calls(calls: Any, where: str) -> str:
    """OpenAI `tool_calls` as LLaMA-Factory's function-call text: {"name", "arguments"} (a list for several)."""
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        raise Drop(BAD_TURN, f"{where}.tool_calls: expected a list of objects")
    out = []
    for call in calls:
        fn = call.get("function", call)
        args = fn.get("arguments", {})
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                raise Drop(BAD_TURN, f"{where}.tool_calls: arguments are not JSON") from None
        out.append({"name": fn.get("name"), "arguments": args})
    return json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False)


def _turn(message: Any, where: str, role_key: str, content_key: str, roles: dict[str, str]) -> tuple[str, str]:
    if not isinstance(message, dict):
        raise Drop(BAD_TURN, f"{where}: expected an object, got {type(message).__name__}")
    role = message.get(role_key)
    if role_key == "role" and role == "assistant" and message.get("tool_calls"):
        return FUNCTION, _tool_calls(message["tool_calls"], where)
    if role not in roles:
        raise Drop(BAD_TURN, f"{where}: unknown {role_key} {role!r}")
    return roles[role], _text(message.get(content_key), f"{where}.{content_key}")


def _message_conversation(record: Record, key: str, role_key: str, content_key: str,
                          roles: dict[str, str]) -> Conversation:
    messages = record.get(key)
    if not isinstance(messages, list):
        raise Drop(BAD_TYPE, f"{key}: expected a list of turns, got {type(messages).__name__}")
    system = _text(record.get("system"), "system")
    turns: list[tuple[str, str]] = []
    for number, message in enumerate(messages, start=1):
        if number == 1 and isinstance(message, dict) and message.get(role_key) == "system":
            system = _text(message.get(content_key), f"{key}[1].{content_key}")
            continue
        turns.append(_turn(message, f"{key}[{number}]", role_key, content_key, roles))
    chat = Conversation(turns, system, _tools(record.get("tools")), kto_tag=_kto(record))
    if "chosen" in record or "rejected" in record:
        chat.chosen = _turn(record.get("chosen"), "chosen", role_key, content_key, roles)
        chat.rejected = _turn(record.get("rejected"), "rejected", role_key, content_key, roles)
    return chat


def conversation(record: Record) -> Conversation:
    """Read a record of any form into the canonical form; raises Drop when its structure is broken.

    >>> conversation({"instruction": "Hi", "input": "", "output": "Hello", "system": "S"})
    Conversation(turns=[('user', 'Hi'), ('assistant', 'Hello')], system='S', tools='', chosen=None, rejected=None, kto_tag=None)
    """
    kind = record_format(record)
    if kind == "sharegpt":
        return _message_conversation(record, "conversations", "from", "value", _FROM_SHAREGPT)
    if kind == "openai":
        return _message_conversation(record, "messages", "role", "content", _FROM_OPENAI)
    return alpaca_conversation(record)


def _extras(chat: Conversation, out: Record, answer: Callable[[tuple[str, str]], Any]) -> Record:
    if chat.chosen is not None and chat.rejected is not None:
        out["chosen"], out["rejected"] = answer(chat.chosen), answer(chat.rejected)
    if chat.kto_tag is not None:
        out["kto_tag"] = chat.kto_tag
    return out


def to_alpaca(chat: Conversation) -> Record:
    """The Alpaca form of a user/assistant chat: the last exchange becomes the prompt; raises Drop."""
    roles = [role for role, _ in chat.turns]
    answered = 0 if chat.chosen is not None else 1  # a preference record ends on the prompt
    if any(role not in (USER, ASSISTANT) for role in roles) or (chat.chosen and chat.chosen[0] != ASSISTANT):
        raise Drop(UNCONVERTIBLE, "tool calls (function/observation turns) have no Alpaca form: export as sharegpt")
    pairs_len = len(roles) - 1 - answered
    if pairs_len < 0 or pairs_len % 2 or roles != [USER, ASSISTANT] * (pairs_len // 2) + [USER] + [ASSISTANT] * answered:
        raise Drop(UNCONVERTIBLE, "turns must alternate user, assistant and end with the assistant")
    prompt = chat.turns[pairs_len][1]
    out: Record = {"instruction": prompt, "input": ""}
    if answered:
        out["output"] = chat.turns[-1][1]
    if chat.system:
        out["system"] = chat.system
    pairs = [[chat.turns[i][1], chat.turns[i + 1][1]] for i in range(0, pairs_len, 2)]
    if pairs:
        out["history"] = pairs
    if chat.tools:
        out["tools"] = chat.tools
    return _extras(chat, out, lambda turn: turn[1])


def to_sharegpt(chat: Conversation) -> Record:
    """The ShareGPT form: `conversations` of {"from", "value"}, `system` and `tools` beside them."""
    out: Record = {"conversations": [{"from": SHAREGPT_TAGS[role], "value": text} for role, text in chat.turns]}
    if chat.system:
        out["system"] = chat.system
    if chat.tools:
        out["tools"] = chat.tools
    return _extras(chat, out, lambda turn: {"from": SHAREGPT_TAGS[turn[0]], "value": turn[1]})


def to_openai(chat: Conversation) -> Record:
    """The OpenAI chat form: `messages` of {"role", "content"}, the system prompt as the first message."""
    # LLaMA-Factory reads tools as a JSON string, OpenAI's format as a list: no form suits both.
    answers = [t for t in (chat.chosen, chat.rejected) if t is not None]
    if chat.tools or any(role not in OPENAI_ROLES for role, _ in [*chat.turns, *answers]):
        raise Drop(UNCONVERTIBLE, "records with tools or tool calls: export them as sharegpt")
    messages = [{"role": "system", "content": chat.system}] if chat.system else []
    messages += [{"role": OPENAI_ROLES[role], "content": text} for role, text in chat.turns]
    return _extras(chat, {"messages": messages}, lambda turn: {"role": OPENAI_ROLES[turn[0]], "content": turn[1]})


FORM_WRITERS: dict[str, Callable[[Conversation], Record]] = {
    "alpaca": to_alpaca, "sharegpt": to_sharegpt, "openai": to_openai}


def to_form(record: Record, fmt: str) -> Record:
    """A record of any form as the training fields of `fmt` (no id/meta); raises Drop.

    An Alpaca record written as Alpaca keeps its `input` apart instead of folding it into the prompt.

    >>> to_form({"instruction": "Hi", "output": "Hello", "id": "a:1"}, "sharegpt")
    {'conversations': [{'from': 'human', 'value': 'Hi'}, {'from': 'gpt', 'value': 'Hello'}]}
    """
    return chat_to_form(conversation(record), record, fmt)  # conversation raises Drop on a broken structure


def chat_to_form(chat: Conversation, record: Record, fmt: str) -> Record:
    """`to_form` given the record's conversation already read (`conversation(record)`); raises Drop."""
    if fmt == "alpaca" and record_format(record) == "alpaca":
        out = to_alpaca(chat)
        out["instruction"], out["input"] = record.get("instruction") or "", record.get("input") or ""
        return out
    return FORM_WRITERS[fmt](chat)


# ---- the role-tagged view every stage uses -------------------------------------------------------

Text = tuple[str, str, str]  # (role, Alpaca-view field, text)


def _message_fields(record: Record, key: str, role_key: str, content_key: str,
                    roles: dict[str, str]) -> list[tuple[str, str]]:
    """(role, field) for each message of a chat: the last user turn is "instruction", its answer "output"."""
    messages = record.get(key)
    if not isinstance(messages, list):
        return []
    tags = []
    for message in messages:
        role = message.get(role_key) if isinstance(message, dict) else None
        if role_key == "role" and role == "assistant" and isinstance(message, dict) and message.get("tool_calls"):
            role = "function"
        tags.append(SYSTEM if role == "system" else roles.get(role, ""))
    fields = [SYSTEM if r == SYSTEM else r if r in TOOL_ROLES else "history" for r in tags]
    last_user = max((i for i, r in enumerate(tags) if r == USER), default=None)
    if last_user is not None:
        fields[last_user] = "instruction"
        # The answer is the last assistant turn after the prompt (tool calls may come between).
        answer = max((i for i, r in enumerate(tags) if r == ASSISTANT), default=-1)
        if answer > last_user:
            fields[answer] = "output"
    return list(zip(tags, fields, strict=True))


def texts(record: Record) -> Iterator[Text]:
    """Every string of a record with its role and its Alpaca-view field; non-strings are skipped.

    >>> list(texts({"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}))
    [('user', 'instruction', 'Hi'), ('assistant', 'output', 'Hello')]
    """
    if "conversations" in record or "messages" in record:
        out: list[Text] = []
        map_texts(record, lambda role, field, text: out.append((role, field, text)) or text)
        return iter(out)
    return _alpaca_texts(record)


def _alpaca_texts(record: Record) -> Iterator[Text]:
    # The common case, without map_texts' copy: same order and tags as map_texts gives.
    get = record.get
    if isinstance(value := get("system"), str):
        yield SYSTEM, SYSTEM, value
    if isinstance(value := get("tools"), str):
        yield TOOLS, TOOLS, value
    history = get("history")
    if isinstance(history, list):
        for pair in history:
            if isinstance(pair, (list, tuple)):
                for i, text in enumerate(pair):
                    if isinstance(text, str):
                        yield ASSISTANT if i % 2 else USER, "history", text
    for field, role in _ALPACA_SLOTS:
        if isinstance(value := get(field), str):
            yield role, field, value


_ALPACA_SLOTS = (("instruction", USER), ("input", USER), ("output", ASSISTANT),
                 ("chosen", ASSISTANT), ("rejected", ASSISTANT))


def map_texts(record: Record, fn: Callable[[str, str, str], str]) -> Record:
    """A copy of `record`, in its own form, with every string `s` replaced by `fn(role, field, s)`."""
    kind = record_format(record)
    out = dict(record)
    if isinstance(record.get("system"), str):
        out["system"] = fn(SYSTEM, SYSTEM, record["system"])
    if isinstance(record.get("tools"), str):
        out["tools"] = fn(TOOLS, TOOLS, record["tools"])
    if kind == "alpaca":
        history = record.get("history")
        if isinstance(history, list):
            out["history"] = [[fn(ASSISTANT if i % 2 else USER, "history", s) if isinstance(s, str) else s
                               for i, s in enumerate(pair)]
                              if isinstance(pair, (list, tuple)) else pair for pair in history]
        for field, role in _ALPACA_SLOTS:
            if isinstance(record.get(field), str):
                out[field] = fn(role, field, record[field])
        return out
    key, role_key, content_key, roles = (("conversations", "from", "value", _FROM_SHAREGPT) if kind == "sharegpt"
                                         else ("messages", "role", "content", _FROM_OPENAI))
    tags = _message_fields(record, key, role_key, content_key, roles)
    if tags:
        out[key] = [_map_message(m, role, field, content_key, fn) for m, (role, field) in zip(record[key], tags, strict=True)]
    for field in PREFERENCE_FIELDS:
        message = record.get(field)
        if isinstance(message, dict):
            role = roles.get(message.get(role_key), "")
            out[field] = _map_message(message, role, field if role == ASSISTANT else role, content_key, fn)
    return out


def _map_message(message: Any, role: str, field: str, content_key: str, fn: Callable[[str, str, str], str]) -> Any:
    if not isinstance(message, dict) or not isinstance(message.get(content_key), str) or not role:
        return message
    return {**message, content_key: fn(role, field, message[content_key])}


def alpaca_view(record: Record) -> dict[str, str]:
    """The Alpaca fields of any record: prompt, input, answer, system and history as plain text.

    >>> alpaca_view({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]})
    {'instruction': 'Hi', 'input': '', 'output': 'Yo', 'system': '', 'history': ''}
    """
    view = dict.fromkeys(("instruction", "input", "output", "system", "history"), "")
    history = []
    for role, field, text in texts(record):
        if field in ("instruction", "input", "output", "system") and not view[field]:
            view[field] = text
        elif field == "chosen" and not view["output"]:
            view["output"] = text
        elif field == "history" or role in (FUNCTION, OBSERVATION):
            history.append(text)
    view["history"] = "\n".join(history)
    return view


def compare_text(record: Record, fields: tuple[str, ...] = COMPARE_FIELDS) -> str:
    """The compared text of a record of any form: its view fields in `fields` order, joined by FIELD_SEP.

    Trailing empty fields are left out, so a plain Alpaca record compares as instruction, input, output.

    >>> compare_text({"instruction": "Hi", "input": "", "output": "Hello"})
    'Hi\\x00\\x00Hello'
    >>> compare_text({"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]})
    'Hi\\x00\\x00Hello'
    """
    if "conversations" not in record and "messages" not in record:
        return FIELD_SEP.join([_alpaca_field(record, f) for f in fields]).rstrip(FIELD_SEP)
    groups: dict[str, list[str]] = {f: [] for f in fields}
    for _, field, text in texts(record):
        if field in groups:
            groups[field].append(text)
    return FIELD_SEP.join(FIELD_SEP.join(groups[f]) for f in fields).rstrip(FIELD_SEP)


def _alpaca_field(record: Record, field: str) -> str:
    # compare_text's per-record path for the common case: no view built, same result as the groups.
    value = record.get(field)
    if isinstance(value, str):
        return value
    if field == "history" and isinstance(value, list):
        return FIELD_SEP.join(s for pair in value if isinstance(pair, (list, tuple)) for s in pair if isinstance(s, str))
    return ""


def conversation_text(record: Record, system: bool = False) -> str:
    """The text of every turn (and the system prompt if asked), for similarity and lengths.

    A shared system prompt is left out by default: it would make unrelated records look alike.

    >>> conversation_text({"instruction": "Hi", "input": "", "output": "Hello", "system": "S"})
    'Hi\\nHello'
    """
    try:
        chat = conversation(record)
    except Drop:
        return ""
    return turns_text(chat, system)


def turns_text(chat: Conversation, system: bool = False) -> str:
    """`conversation_text` of a conversation already read: its non-empty turns and answers, one per line.

    >>> turns_text(Conversation([("user", "Hi"), ("assistant", "")], system="S"), system=True)
    'S\\nHi'
    """
    parts = [text for _, text in chat.turns]
    if system:
        parts.insert(0, chat.system)
    if chat.chosen:
        parts += [t for _, t in (chat.chosen, chat.rejected) if t]
    return "\n".join([t for t in parts if t])


def record_text(record: Record, fields: tuple[str, ...] = TEXT_FIELDS) -> str:
    """Join the text fields of a record, for hashing and similarity.

    >>> record_text({"instruction": "Hi", "input": "", "output": "Hello"})
    'Hi\\nHello'
    """
    parts = [record.get(f) for f in fields]
    return "\n".join(p for p in parts if isinstance(p, str) and p)


def training_view(record: Record) -> Record:
    """The record without provenance: only the fields a trainer should see.

    >>> training_view({"instruction": "a", "output": "b", "id": "x", "meta": {}})
    {'instruction': 'a', 'input': '', 'output': 'b'}
    """
    out: Record = {
        "instruction": record.get("instruction", ""),
        "input": record.get("input", "") or "",
        "output": record.get("output", ""),
    }
    if record.get("system"):
        out["system"] = record["system"]
    if record.get("history"):
        out["history"] = record["history"]
    return out


def __getattr__(name: str) -> Any:
    # AlpacaRecord needs pydantic (0.15 s to import): built on first use, so that commands which only
    # read and check dicts (validate, clean) do not pay for it.
    if name == "AlpacaRecord":
        from datacraft.records_model import AlpacaRecord

        return AlpacaRecord
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
