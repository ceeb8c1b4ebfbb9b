"""The typed view of an Alpaca record for library users (pydantic); `datacraft.records.AlpacaRecord` loads it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator


class AlpacaRecord(BaseModel):
    """An Alpaca training example, as LLaMA-Factory reads it (the typed view for library users)."""

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
