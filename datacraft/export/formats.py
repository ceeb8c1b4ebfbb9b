"""Convert records between Alpaca, ShareGPT and OpenAI chat, the shapes LLaMA-Factory reads.

Every converter goes through one neutral form, a `Chat`: system prompt, tools and a list of
(role, content) turns with LLaMA-Factory's roles (user, assistant, function, observation).
Alpaca prompts are joined exactly as LLaMA-Factory joins them: `instruction + "\\n" + input`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datacraft.records import Record
from datacraft.stages import Reject

OUTPUT_FORMATS = ("alpaca", "sharegpt", "openai")
USER, ASSISTANT, FUNCTION, OBSERVATION = "user", "assistant", "function", "observation"

# LLaMA-Factory's default ShareGPT tags (parser.py DatasetAttr) and OpenAI chat roles.
SHAREGPT_TAGS = {USER: "human", ASSISTANT: "gpt", FUNCTION: "function_call", OBSERVATION: "observation"}
OPENAI_ROLES = {USER: "user", ASSISTANT: "assistant"}
_FROM_SHAREGPT = {v: k for k, v in SHAREGPT_TAGS.items()}
_FROM_OPENAI = {"user": USER, "assistant": ASSISTANT, "function": FUNCTION, "tool": OBSERVATION}


@dataclass
class Chat:
    """The neutral form: a system prompt, tools and alternating turns."""

    turns: list[tuple[str, str]]
    system: str = ""
    tools: str = ""


def record_format(record: Record) -> str:
    """Which shape a record has: "sharegpt" (conversations), "openai" (messages) or "alpaca".

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
        raise Reject("wrong_type", f"{what} must be a string, got {type(value).__name__}")
    return value


def alpaca_chat(record: Record) -> Chat:
    """Read an Alpaca record into the neutral form (history pairs first, then the prompt)."""
    turns: list[tuple[str, str]] = []
    history = record.get("history") or []
    if not isinstance(history, list):
        raise Reject("wrong_type", f"history must be a list of [prompt, response] pairs, got {type(history).__name__}")
    for number, pair in enumerate(history, start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise Reject("bad_history", f"history item {number} is not a [prompt, response] pair")
        turns += [(USER, _text(pair[0], f"history[{number}][0]")), (ASSISTANT, _text(pair[1], f"history[{number}][1]"))]
    prompt = [_text(record.get("instruction"), "instruction"), _text(record.get("input"), "input")]
    turns.append((USER, "\n".join(p for p in prompt if p)))
    turns.append((ASSISTANT, _text(record.get("output"), "output")))
    return Chat(turns, _text(record.get("system"), "system"), _tools(record.get("tools")))


def _tools(value: Any) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    import json

    # LLaMA-Factory stores tools as a JSON string; a list/dict is serialised the same way.
    return json.dumps(value, ensure_ascii=False)


def _message_chat(record: Record, key: str, role_key: str, content_key: str, roles: dict[str, str],
                  system_role: str) -> Chat:
    messages = record.get(key)
    if not isinstance(messages, list):
        raise Reject("wrong_type", f"{key} must be a list of messages")
    system = _text(record.get("system"), "system")
    turns: list[tuple[str, str]] = []
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            raise Reject("bad_message", f"{key}[{number}] is not an object")
        role, content = message.get(role_key), _text(message.get(content_key), f"{key}[{number}].{content_key}")
        if role == system_role and number == 1:
            system = content
        elif role in roles:
            turns.append((roles[role], content))
        else:
            raise Reject("bad_role", f"{key}[{number}] has {role_key} {role!r}")
    return Chat(turns, system, _tools(record.get("tools")))


def to_chat(record: Record) -> Chat:
    """Read a record of any supported shape into the neutral form; raises Reject when it cannot."""
    kind = record_format(record)
    if kind == "sharegpt":
        return _message_chat(record, "conversations", "from", "value", _FROM_SHAREGPT, "system")
    if kind == "openai":
        return _message_chat(record, "messages", "role", "content", _FROM_OPENAI, "system")
    return alpaca_chat(record)


def chat_to_alpaca(chat: Chat) -> Record:
    """The Alpaca form of a plain user/assistant chat: the last exchange becomes the prompt."""
    roles = [role for role, _ in chat.turns]
    if any(role not in (USER, ASSISTANT) for role in roles):
        raise Reject("unconvertible", "tool calls (function/observation turns) have no Alpaca form")
    if len(roles) < 2 or len(roles) % 2 or roles != [USER, ASSISTANT] * (len(roles) // 2):
        raise Reject("unconvertible", "turns must alternate user, assistant and end with the assistant")
    pairs = [[chat.turns[i][1], chat.turns[i + 1][1]] for i in range(0, len(chat.turns) - 2, 2)]
    out: Record = {"instruction": chat.turns[-2][1], "input": "", "output": chat.turns[-1][1]}
    if chat.system:
        out["system"] = chat.system
    if pairs:
        out["history"] = pairs
    if chat.tools:
        out["tools"] = chat.tools
    return out


def chat_to_sharegpt(chat: Chat) -> Record:
    """The ShareGPT form: `conversations` of {"from", "value"}, `system` and `tools` beside them."""
    out: Record = {"conversations": [{"from": SHAREGPT_TAGS[role], "value": text} for role, text in chat.turns]}
    if chat.system:
        out["system"] = chat.system
    if chat.tools:
        out["tools"] = chat.tools
    return out


def chat_to_openai(chat: Chat) -> Record:
    """The OpenAI chat form: `messages` of {"role", "content"}, the system prompt as the first message."""
    # LLaMA-Factory reads tools as a JSON string, OpenAI's format as a list: no form suits both.
    if chat.tools or any(role not in OPENAI_ROLES for role, _ in chat.turns):
        raise Reject("unconvertible", "records with tools or tool calls: export them as sharegpt")
    messages = [{"role": "system", "content": chat.system}] if chat.system else []
    messages += [{"role": OPENAI_ROLES[role], "content": text} for role, text in chat.turns]
    return {"messages": messages}


def alpaca_to_sharegpt(record: Record) -> Record:
    """Convert one Alpaca record to ShareGPT.

    >>> alpaca_to_sharegpt({"instruction": "Translate", "input": "你好", "output": "Hello", "system": "Be brief"})
    {'conversations': [{'from': 'human', 'value': 'Translate\\n你好'}, {'from': 'gpt', 'value': 'Hello'}], 'system': 'Be brief'}
    """
    return chat_to_sharegpt(alpaca_chat(record))


def alpaca_to_openai(record: Record) -> Record:
    """Convert one Alpaca record to OpenAI chat.

    >>> alpaca_to_openai({"instruction": "Hi", "input": "", "output": "Hello", "history": [["1+1?", "2"]]})
    {'messages': [{'role': 'user', 'content': '1+1?'}, {'role': 'assistant', 'content': '2'}, {'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello'}]}
    """
    return chat_to_openai(alpaca_chat(record))


_WRITERS = {"alpaca": chat_to_alpaca, "sharegpt": chat_to_sharegpt, "openai": chat_to_openai}


def convert(record: Record, fmt: str) -> Record:
    """Convert a record of any shape to the training fields of `fmt` (no id/meta); raises Reject."""
    if fmt == "alpaca" and record_format(record) == "alpaca":
        # Keep Alpaca input as is rather than folding `input` into the instruction.
        alpaca_chat(record)  # raises Reject on wrong types, as for the other formats
        out: Record = {"instruction": record.get("instruction") or "", "input": record.get("input") or "",
                       "output": record.get("output") or ""}
        for key in ("system", "history", "tools"):
            if record.get(key):
                out[key] = record[key] if key != "tools" else _tools(record[key])
        return out
    return _WRITERS[fmt](to_chat(record))


def chat_text(record: Record, system: bool = False) -> str:
    """The text of every turn (and the system prompt if asked), for similarity and lengths.

    A shared system prompt is left out by default: it would make unrelated records look alike.

    >>> chat_text({"instruction": "Hi", "input": "", "output": "Hello", "system": "S"})
    'Hi\\nHello'
    """
    try:
        chat = to_chat(record)
    except Reject:
        return ""
    parts = ([chat.system] if system else []) + [text for _, text in chat.turns]
    return "\n".join(t for t in parts if t)
