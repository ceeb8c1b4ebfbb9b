"""Alpaca records to token ids and labels: chat template (or a documented fallback), prompt masked.

Each record becomes messages (system, history pairs, then instruction + input as the user turn and
output as the assistant turn). The rendered text is cut into prompt and answer segments, each
tokenised on its own so the label mask falls exactly on the boundary. Labels are -100 on every
prompt token; answers (and the EOS token that ends them) are learned. Earlier assistant turns from
`history` are learned too unless `mask_history` is set, as LLaMA-Factory does.

Fallback template, used when the tokenizer has no chat template (or with template="fallback"):

    {system}\\n\\n                      (when the record has one)
    ### Instruction:\\n{user}\\n\\n### Response:\\n{answer}<eos>\\n\\n   (one block per turn)

where {user} is the instruction, followed by a blank line and the input when there is one.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from datacraft.errors import ConfigError, InputError
from datacraft.io.readers import iter_records
from datacraft.records import Record

IGNORE = -100  # label value the loss skips


@dataclass(slots=True)
class Example:
    """One tokenised record: what the trainer and the scorer need."""

    input_ids: list[int]
    labels: list[int]
    prompt_ids: list[int]  # everything before the final answer, for generation
    reference: str  # the final answer, for the task metric
    label: str | None = None  # group (e.g. meta.task_type) for per-attribute scores
    truncated: bool = False
    source: int = -1  # index of the record it came from (records dropped for length leave gaps)


@dataclass(slots=True)
class EncodeStats:
    """What tokenising did to the records."""

    records: int = 0
    truncated: int = 0  # cut at max_length (the end of the answer is lost)
    dropped: int = 0  # no answer token left after cutting
    longest: int = 0  # tokens in the longest record before cutting
    tokens: int = 0  # tokens kept
    template: str = "chat"  # chat | fallback
    examples: list[str] = field(default_factory=list)  # ids of a few truncated records

    def warnings(self, max_length: int) -> list[str]:
        """Human-readable warnings, empty when nothing was cut."""
        out = []
        if self.truncated:
            out.append(f"{self.truncated} of {self.records} records are longer than --max-length {max_length} "
                       f"tokens (longest {self.longest}) and lose the end of their answer")
        if self.dropped:
            out.append(f"{self.dropped} records dropped: the prompt alone fills --max-length {max_length}")
        return out


def load_records(paths: Iterable[str], read_options: dict[str, Any] | None = None) -> list[Record]:
    """Read training records; the first unreadable row or record without instruction/output is an error."""
    records = []
    for path in paths:
        for row in iter_records(path, strict=True, **(read_options or {})):
            record = row.value
            for name in ("instruction", "output"):
                value = record.get(name)
                if not isinstance(value, str) or not value.strip():
                    raise InputError(row.path, f"{name} is missing or empty; run `datacraft validate` "
                                               "or `datacraft clean` first", row.line)
            history = record.get("history")
            if history is not None and not (isinstance(history, list) and all(
                    isinstance(t, list | tuple) and len(t) == 2 and all(isinstance(x, str) for x in t)
                    for t in history)):
                raise InputError(row.path, "history must be a list of [question, answer] string pairs", row.line)
            records.append(record)
    return records


def label_of(record: Record, key: str | None) -> str | None:
    """The value at a dotted key, as a string.

    >>> label_of({"meta": {"task_type": "qa"}}, "meta.task_type")
    'qa'
    """
    if not key:
        return None
    value: Any = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return None if value is None else str(value)


def split_records(records: Sequence[Record], val_size: float, seed: int) -> tuple[list[Record], list[Record]]:
    """Shuffle and hold out `val_size` of the records (at least one, never all)."""
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    n_val = min(max(1, round(len(records) * val_size)), len(records) - 1)
    return [records[i] for i in order[n_val:]], [records[i] for i in order[:n_val]]


def to_messages(record: Record) -> list[dict[str, str]]:
    """Chat messages for a record: system, history pairs, then the instruction (+ input) and output."""
    messages = []
    if record.get("system"):
        messages.append({"role": "system", "content": str(record["system"])})
    for turn in record.get("history") or []:
        messages.append({"role": "user", "content": str(turn[0])})
        messages.append({"role": "assistant", "content": str(turn[1])})
    user = str(record["instruction"])
    if record.get("input"):
        user = f"{user}\n\n{record['input']}"
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": str(record["output"])})
    return messages


def _render(tokenizer: Any, messages: list[dict[str, str]], generation: bool = False) -> str:
    try:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)
    except Exception as exc:  # jinja raises its own types; the message is what matters
        raise ConfigError(f"the model's chat template failed: {exc}; try --template fallback") from None


def _chat_segments(messages: list[dict[str, str]], tokenizer: Any) -> list[tuple[str, bool]]:
    """(text, is_answer) pieces from the chat template, found by rendering growing prefixes."""
    segments: list[tuple[str, bool]] = []
    done = ""
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = _render(tokenizer, messages[:k], generation=True)
        full = _render(tokenizer, messages[:k + 1])
        if not prompt.startswith(done) or not full.startswith(prompt):
            return _whole_segments(messages, tokenizer)
        answer = full[len(prompt):].rstrip()  # trailing newlines belong to the next prompt, if any
        segments += [(prompt[len(done):], False), (answer, True)]
        done = prompt + answer
    return segments


def _whole_segments(messages: list[dict[str, str]], tokenizer: Any) -> list[tuple[str, bool]]:
    """Segments for templates that render a turn differently once later turns follow it.

    Qwen3's template, for one, gives the last assistant turn a `<think>...</think>` block and
    earlier ones none, so growing prefixes do not nest. Here the whole conversation is rendered
    once; the last answer is what follows the generation prompt, and each earlier answer is found
    by its text (plus the end-of-turn marker the last answer ends with).
    """
    full = _render(tokenizer, messages)
    prompt = _render(tokenizer, messages[:-1], generation=True)
    if not full.startswith(prompt):
        raise ConfigError("the model's chat template does not render the last answer after its generation prompt; "
                          "try --template fallback")
    last = full[len(prompt):].rstrip()
    content = messages[-1]["content"]
    closing = last[last.rfind(content) + len(content):] if content and content in last else ""
    segments: list[tuple[str, bool]] = []
    cursor = 0
    for message in messages[:-1]:
        if message["role"] != "assistant":
            continue
        at = prompt.find(message["content"], cursor)
        if at < 0 or not message["content"]:
            raise ConfigError("the model's chat template changes earlier answers' text; try --template fallback")
        end = at + len(message["content"])
        if closing and prompt.startswith(closing, end):
            end += len(closing)
        segments += [(prompt[cursor:at], False), (prompt[at:end], True)]
        cursor = end
    return [*segments, (prompt[cursor:], False), (last, True)]


def _fallback_segments(messages: list[dict[str, str]]) -> list[tuple[str, bool]]:
    segments: list[tuple[str, bool]] = []
    pending = ""
    for message in messages:
        if message["role"] == "system":
            pending += f"{message['content']}\n\n"
        elif message["role"] == "user":
            pending += f"### Instruction:\n{message['content']}\n\n### Response:\n"
        else:
            segments += [(pending, False), (message["content"], True)]
            pending = "\n\n"
    return segments


def encode_record(record: Record, tokenizer: Any, *, max_length: int, template: str = "auto",
                  mask_history: bool = False, label_key: str | None = None) -> tuple[Example | None, int]:
    """Tokenise one record; returns the example (None when nothing is left to learn) and its full length."""
    messages = to_messages(record)
    use_chat = template == "auto" and getattr(tokenizer, "chat_template", None)
    segments = _chat_segments(messages, tokenizer) if use_chat else _fallback_segments(messages)
    eos = tokenizer.eos_token_id
    input_ids: list[int] = []
    labels: list[int] = []
    if not use_chat and _adds_bos(tokenizer):
        input_ids, labels = [tokenizer.bos_token_id], [IGNORE]
    last_answer = max(i for i, (_, is_answer) in enumerate(segments) if is_answer)
    prompt_ids: list[int] = []
    for i, (text, is_answer) in enumerate(segments):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        if i == last_answer:
            prompt_ids = list(input_ids)
        if is_answer and eos is not None and (not ids or ids[-1] != eos):
            ids = [*ids, eos]
        learn = is_answer and (i == last_answer or not mask_history)
        input_ids += ids
        labels += ids if learn else [IGNORE] * len(ids)
    full_length = len(input_ids)
    truncated = full_length > max_length
    input_ids, labels = input_ids[:max_length], labels[:max_length]
    if all(label == IGNORE for label in labels[1:]):  # the first label is never predicted
        return None, full_length
    return Example(input_ids, labels, prompt_ids[-max_length:], str(record["output"]),
                   label_of(record, label_key), truncated), full_length


def _adds_bos(tokenizer: Any) -> bool:
    bos = tokenizer.bos_token_id
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos


def encode_records(records: Iterable[Record], tokenizer: Any, *, max_length: int, template: str = "auto",
                   mask_history: bool = False, label_key: str | None = None) -> tuple[list[Example], EncodeStats]:
    """Tokenise records, counting what was cut or dropped."""
    stats = EncodeStats(template="chat" if template == "auto" and getattr(tokenizer, "chat_template", None)
                        else "fallback")
    examples = []
    for index, record in enumerate(records):
        stats.records += 1
        example, length = encode_record(record, tokenizer, max_length=max_length, template=template,
                                        mask_history=mask_history, label_key=label_key)
        stats.longest = max(stats.longest, length)
        if example is None:
            stats.dropped += 1
            continue
        if example.truncated:
            stats.truncated += 1
            if len(stats.examples) < 5 and record.get("id") is not None:
                stats.examples.append(str(record["id"]))
        stats.tokens += len(example.input_ids)
        example.source = index
        examples.append(example)
    return examples, stats
