"""Settings for `augment`: which methods run, how hard each one rewrites, and what the guard accepts.

A config file (YAML or JSON) has up to three sections: `augment` (AugmentConfig), `llm` (the
endpoint for the LLM translator, paraphraser and judge) and `clean` (the filters every augmented
record must pass).
A threshold of `None` switches its check off.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from datacraft.config import load_sections as _load_sections
from datacraft.config import validate_section

SECTIONS = ("augment", "llm", "clean")
METHODS = ("synonym", "backtranslate", "paraphrase", "swap", "delete", "insert", "noise", "mix")
EDA_METHODS = ("swap", "delete", "insert", "noise")
LLM_METHODS = ("backtranslate", "paraphrase")
Method = Literal["synonym", "backtranslate", "paraphrase", "swap", "delete", "insert", "noise", "mix"]
Field_ = Literal["instruction", "input", "output"]


class SynonymConfig(BaseModel):
    """Synonym replacement: reviewed pairs (default), or the whole thesaurus (Cilin for Chinese, WordNet for English)."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["curated", "thesaurus"] = Field("curated", description="curated: the reviewed allow-list of pairs; thesaurus: any Cilin/WordNet synonym (more variety, many wrong words)")
    ratio: float = Field(0.15, gt=0, le=1, description="share of the words in a record to replace (at least one)")
    max_words: int | None = Field(4, ge=1, description="curated: most distinct words replaced in one copy (each is a small risk)")
    terms: list[str] = Field([], description="curated: files of terms never replaced or split (one per line, or jieba user-dict lines)")
    pairs: str | None = Field(None, description="curated: a TSV of your own pairs (word, replacements, rules), added to the shipped ones")
    languages: list[Literal["zh", "en"]] = Field(["zh", "en"], description="languages of the fields to rewrite (thesaurus: en needs WordNet data)")
    wordnet_dir: str | None = Field(None, description="a WordNet 3.0 dict folder (e.g. /usr/share/wordnet); None: NLTK's data")


class BacktranslateConfig(BaseModel):
    """Back-translation through a pivot language, with an LLM or a local MarianMT model."""

    model_config = ConfigDict(extra="forbid")

    pivot: str = Field("auto", pattern=r"^(auto|[a-z]{2,3}|zh-Han[st])$",
                       description="pivot language code (auto: en for Chinese text, zh for the rest)")
    translator: Literal["llm", "marian"] = Field("llm", description="llm: any OpenAI-compatible endpoint; marian: local model")
    model_dirs: dict[str, str] = Field({}, description="marian: one folder per direction, e.g. {zh-en: ./opus-mt-zh-en}")
    batch_size: int = Field(8, ge=1, le=256, description="texts per LLM request, or per model forward pass")
    batch_chars: int = Field(6000, ge=100, description="llm: most characters of text per request")
    temperature: float = Field(0.7, ge=0, le=2, description="llm: some freedom, so the paraphrase differs from the source")
    max_tokens: int = Field(4096, ge=16, description="llm: reply limit per request")
    prompt: str | None = Field(None, description="llm: your own Jinja2 template instead of prompts/translate.j2")
    device: str | None = Field(None, description="marian: torch device (None: cuda when present, else cpu)")
    num_beams: int = Field(4, ge=1, description="marian: beam width")
    max_length: int = Field(512, ge=8, description="marian: longest input and output, in tokens")


class ParaphraseConfig(BaseModel):
    """LLM paraphrase: instruction and answer reworded in the same language, protected spans masked."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(8, ge=1, le=256, description="texts per LLM request")
    batch_chars: int = Field(6000, ge=100, description="most characters of text per request")
    temperature: float = Field(0.8, ge=0, le=2, description="enough freedom that the wording changes")
    max_tokens: int = Field(4096, ge=16, description="reply limit per request")
    prompt: str | None = Field(None, description="your own Jinja2 template instead of prompts/paraphrase.j2")


class EdaConfig(BaseModel):
    """Easy Data Augmentation (swap, delete, insert, noise): opt-in, on the prompt fields only."""

    model_config = ConfigDict(extra="forbid")

    ratio: float = Field(0.1, gt=0, le=0.5, description="share of the words (noise: characters) an operation touches (at least one)")
    fields: list[Literal["instruction", "input", "output"]] = Field(["instruction", "input"], description="fields the operations rewrite (an answer with typos teaches typos)")


class JudgeConfig(BaseModel):
    """The LLM check of every candidate copy: same meaning? natural? (needs an endpoint)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="ask the judge about each copy that passed the guard")
    temperature: float = Field(0.0, ge=0, le=2, description="a verdict, not a creative task")
    max_tokens: int = Field(300, ge=16, description="reply limit per verdict")
    prompt: str | None = Field(None, description="your own Jinja2 template instead of prompts/augment_judge.j2")


class MixConfig(BaseModel):
    """Mixing: new records combined from parts of existing ones (opt-in)."""

    model_config = ConfigDict(extra="forbid")

    modes: list[Literal["concat", "system"]] = Field(["concat"], description="concat: two tasks in one; system: another system prompt")
    ratio: float = Field(0.1, gt=0, le=1, description="mixed records made per input record, per mode")
    max_chars: int | None = Field(6000, ge=1, description="longest combined record, in characters")
    system_prompts: list[str] = Field([], description="system mode: the prompts to swap in (empty: the distinct ones in the data)")


class GuardConfig(BaseModel):
    """The drift check of an augmented record against its source (on the rewritten fields)."""

    model_config = ConfigDict(extra="forbid")

    min_length_ratio: float | None = Field(0.5, gt=0, description="augmented/source length (units) below this: length_drift")
    max_length_ratio: float | None = Field(2.0, gt=0, description="augmented/source length (units) above this: length_drift")
    min_similarity: float | None = Field(0.2, ge=0, le=1, description="unit-level similarity below this: drifted (meaning lost)")
    max_similarity: float | None = Field(0.95, ge=0, le=1, description="similarity at or above this in every rewritten field: too_similar (a copy adds nothing)")


class AugmentConfig(BaseModel):
    """The whole `augment` section."""

    model_config = ConfigDict(extra="forbid")

    methods: list[Method] = Field(["synonym"], description="methods to run, in order")
    fields: list[Field_] = Field(["instruction", "input", "output"], description="fields synonym and backtranslate rewrite (in a chat: instruction = every user turn, output = every answer)")
    roles: list[Literal["user", "assistant", "system"]] = Field(["user", "assistant"], description="turns rewritten, by role (system prompts only when named); tool calls, observations and tools never")
    protect_factual: bool = Field(True, description="leave input and output alone for factual and code tasks (rewording can make the answer wrong)")
    copies: int = Field(1, ge=1, le=20, description="augmented copies per record for synonym and backtranslate")
    seed: int = Field(0, description="the same seed and input give the same output")
    replace: bool = Field(False, description="write only the augmented records, not the originals")
    block_size: int = Field(256, ge=1, description="records processed together (translation batches, mixing partners)")
    synonym: SynonymConfig = Field(SynonymConfig(), description="synonym replacement")
    backtranslate: BacktranslateConfig = Field(BacktranslateConfig(), description="back-translation")
    paraphrase: ParaphraseConfig = Field(ParaphraseConfig(), description="LLM paraphrase")
    eda: EdaConfig = Field(EdaConfig(), description="swap, delete, insert and noise")
    judge: JudgeConfig = Field(JudgeConfig(), description="the LLM check of each copy")
    mix: MixConfig = Field(MixConfig(), description="mixing")
    guard: GuardConfig = Field(GuardConfig(), description="drift check against the source")


def load_sections(path: str | None) -> dict[str, Any]:
    """The sections of a datacraft config file ({} when no file); unknown sections are an error."""
    return _load_sections(path, SECTIONS)

def augment_config(sections: dict[str, Any], where: str = "config", **flags: Any) -> AugmentConfig:
    """AugmentConfig from the file's `augment` section; dotted flags ("synonym.ratio") override it when not None."""
    data = validate_section(AugmentConfig, sections.get("augment"), f"{where}: augment").model_dump()
    for key, value in flags.items():
        if value is None:
            continue
        target = data
        *parents, name = key.split(".")
        for parent in parents:
            target = target[parent]
        target[name] = value
    return validate_section(AugmentConfig, data, "options")
