"""Settings for `generate` and `review`, and the config file that holds them with the LLM settings.

A config file (YAML or JSON) has up to three sections: `llm` (datacraft.llm.LLMConfig),
`generate` (GenerateConfig) and `clean` (the clean filters each item must pass).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from datacraft.config import load_sections as _load_sections
from datacraft.config import validate_section
from datacraft.generate.lang import LANGS, normalise

SECTIONS = ("llm", "generate", "clean", "review")


class GenerateConfig(BaseModel):
    """How many items to ask for, what each prompt shows, and when an item counts as new."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(100, ge=1, description="accepted items to end with (-n)")
    batch_size: int = Field(5, ge=1, le=50, description="items asked for per request")
    seeds_per_prompt: int = Field(3, ge=0, description="seed examples shown per request (Alpaca used 3)")
    earlier_per_prompt: int = Field(2, ge=0, description="items accepted in earlier rounds shown per request")
    feedback_per_prompt: int = Field(8, ge=0, description="counter-examples from the feedback file shown per request")
    round_size: int | None = Field(None, ge=1, description="accepted items per round (None: one round up to n)")
    rounds: int | None = Field(None, ge=1, description="rounds to run in this invocation (None: until n)")
    lang: str = Field("auto", description="prompt language: auto (the seeds', or each passage's), en, zh-Hans (or zh), zh-Hant, ja, ko, other")
    application: str | None = Field(None, description="what the dataset is for, told to the model (distilabel's application_description)")
    criteria: list[str] = Field([], description="extra quality rules the model is given, one sentence each")
    temperature: float = Field(1.0, ge=0, le=2, description="high, because variety matters more than the single best reply")
    max_tokens: int = Field(4096, ge=64, description="reply limit; a cut-off reply keeps its complete items")
    rouge_threshold: float | None = Field(0.7, gt=0, le=1, description="ROUGE-L F1 of instruction+input with a seed or earlier item at or above which an item is rejected (Self-Instruct: 0.7)")
    near_threshold: float | None = Field(0.8, gt=0, le=1, description="MinHash similarity of the whole record at or above which it is a near-duplicate")
    repair: bool = Field(True, description="when a whole reply is unusable, ask once more with the parse error")
    seed: int = Field(0, description="decides which seeds each request shows, and the request's `seed`")
    max_failures: int = Field(10, ge=1, description="requests failing in a row before the run gives up")
    max_dry: int = Field(50, ge=1, description="requests in a row with no accepted item before the run stops (fix the prompt or filters)")
    chunk_chars: int = Field(1500, ge=100, description="--from-docs: largest chunk, in characters")
    qa_per_chunk: int = Field(3, ge=1, le=50, description="--from-docs: question-answer pairs asked per chunk")
    min_support: float | None = Field(0.5, ge=0, le=1, description="--from-docs: share of an answer's words (CJK: character pairs) that must occur in its passage (None: no grounding check; `review --auto` can judge grounding with the passage)")
    prompt: str | None = Field(None, description="your own prompt template (Jinja2) instead of prompts/generate_<lang>.j2")
    kind: Literal["single", "multi-turn", "preference"] = Field("single", description="what each record is: one exchange, a conversation (--turns), or a chosen/rejected pair for each seed's prompt")
    turns: tuple[int, int] = Field((2, 4), description="multi-turn: user turns per conversation, fewest and most (--turns 2-4)")
    temperatures: list[float] = Field([0.3, 1.0], min_length=1, description="preference: candidate temperatures; one candidate per model and temperature")
    models: list[str] = Field([], description="preference: the models that write candidates (UltraFeedback samples several); empty: the judge's model (--model)")
    judge_retries: int = Field(2, ge=0, description="preference: judge requests repeated after a tie or an unreadable verdict before the prompt is rejected")

    @field_validator("turns", mode="before")
    @classmethod
    def _turn_range(cls, value: Any) -> Any:
        if isinstance(value, str):  # "2-4" or "3"
            low, _, high = value.partition("-")
            try:
                value = (int(low), int(high or low))
            except ValueError:
                raise ValueError(f"--turns: expected a number or a range such as 2-4, got {value!r}") from None
        if isinstance(value, (list, tuple)) and len(value) == 2 and not (1 <= value[0] <= value[1] <= 20):
            raise ValueError(f"--turns: need 1 <= fewest <= most <= 20, got {value[0]}-{value[1]}")
        return value

    @field_validator("temperatures")
    @classmethod
    def _temperature_range(cls, value: list[float]) -> list[float]:
        if any(not 0 <= t <= 2 for t in value):
            raise ValueError("temperatures must lie between 0 and 2")
        return value

    def candidates(self, judge: str) -> list[tuple[str, float]]:
        """(model, temperature) of each preference candidate: every model at every temperature.

        >>> GenerateConfig(models=["a", "b"], temperatures=[0.7]).candidates("judge")
        [('a', 0.7), ('b', 0.7)]
        """
        return [(model, t) for model in (self.models or [judge]) for t in self.temperatures]

    @field_validator("lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        lang = normalise(value)
        if lang != "auto" and lang not in LANGS:
            raise ValueError(f"unknown prompt language {value!r}; use auto, {', '.join(LANGS)}")
        return lang


class ReviewConfig(BaseModel):
    """Settings for `review --auto` (the LLM judge)."""

    model_config = ConfigDict(extra="forbid")

    min_score: int = Field(4, ge=1, le=5, description="judge score (1-5) an item needs to be accepted")
    lang: Literal["auto", "zh", "en"] = Field("auto", description="judge prompt language (auto: each record's)")
    prompt: str | None = Field(None, description="your own judge template instead of prompts/judge_<lang>.j2")
    temperature: float = Field(0.0, ge=0, le=2, description="0: the same record gets the same verdict")
    max_tokens: int = Field(512, ge=16, description="a verdict is short")


def load_sections(path: str | None) -> dict[str, Any]:
    """The sections of a datacraft config file ({} when no file); unknown sections are an error."""
    return _load_sections(path, SECTIONS)

def generate_config(sections: dict[str, Any], path: str = "config", **flags: Any) -> GenerateConfig:
    """GenerateConfig from the file's `generate` section, overridden by flags that are not None."""
    config = validate_section(GenerateConfig, sections.get("generate"), f"{path}: generate")
    updates = {k: v for k, v in flags.items() if v is not None}
    return validate_section(GenerateConfig, {**config.model_dump(), **updates}, "options")


def review_config(sections: dict[str, Any], path: str = "config", **flags: Any) -> ReviewConfig:
    """ReviewConfig from the file's `review` section, overridden by flags that are not None."""
    config = validate_section(ReviewConfig, sections.get("review"), f"{path}: review")
    updates = {k: v for k, v in flags.items() if v is not None}
    return validate_section(ReviewConfig, {**config.model_dump(), **updates}, "options")
