"""The one record shape: an Alpaca dict plus optional `id` and `meta` (provenance).

Records travel between stages as plain dicts (fast, streaming); the pydantic models below are
the typed view used at the edges and by library users.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

Record = dict[str, Any]

ALPACA_FIELDS = ("instruction", "input", "output", "system", "history")
TEXT_FIELDS = ("instruction", "input", "output")
PROVENANCE_FIELDS = ("id", "meta")


class AlpacaRecord(BaseModel):
    """An Alpaca training example, as LLaMA-Factory reads it."""

    model_config = ConfigDict(extra="allow")

    instruction: StrictStr = Field(min_length=1)
    input: StrictStr | None = ""  # null is read as absent, as LLaMA-Factory and `datasets` do
    output: StrictStr = Field(min_length=1)
    system: StrictStr | None = None
    history: list[tuple[StrictStr, StrictStr]] | None = None
    tools: StrictStr | None = None  # function-calling tool descriptions (JSON text), as LLaMA-Factory reads them
    id: StrictStr | None = None
    meta: dict[str, Any] | None = None

    @field_validator("instruction", "output")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class ShareGPTMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    # "from"/"value" is ShareGPT's own naming; LLaMA-Factory maps it with `tags`.
    from_: StrictStr = Field(alias="from")
    value: StrictStr


class ShareGPTRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    conversations: list[ShareGPTMessage] = Field(min_length=1)
    system: StrictStr | None = None
    tools: StrictStr | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: StrictStr
    content: StrictStr


class OpenAIChatRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    messages: list[ChatMessage] = Field(min_length=1)


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
