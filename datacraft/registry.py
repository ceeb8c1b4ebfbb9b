"""The stage registry: each pipeline stage's name, pydantic settings model and function.

Record stages (clean, dedupe, validate) give `build(settings, ledger, base) -> [Stage]`, each an
`Iterable[Record] -> Iterator[Record]` with its settings bound, so any executor (the local
runner today, Ray later) can run them. Output stages (export, stats) give
`write(settings, records_file, out_dir, name) -> counts`. `check_stages` validates every stage's
settings before any work starts: an unknown key is named with its file and stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from datacraft.config import validate_section
from datacraft.errors import ConfigError
from datacraft.stages import Ledger, Stage


class ReadSettings(BaseModel):
    """`read` takes no settings: what to read and how is in the pipeline's `inputs`."""

    model_config = ConfigDict(extra="forbid")


class ValidateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_: str = Field("auto", alias="schema")  # auto: each record's own form; or alpaca, sharegpt, openai, a path
    forbid_extra: bool = False  # also reject unknown top-level fields and whitespace-only strings
    strict: bool = False  # deprecated name of forbid_extra (--strict means "bad input lines are fatal" elsewhere)


class ExportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: Literal["alpaca", "sharegpt", "openai"] | None = None  # the layout written (default alpaca), as `export --to`
    format: Literal["alpaca", "sharegpt", "openai"] | None = None  # deprecated name of `to`

    @model_validator(mode="after")
    def _one_layout(self) -> ExportSettings:
        if self.to is not None and self.format is not None and self.to != self.format:
            raise ValueError(f"to: {self.to} and format: {self.format} disagree (format is the old name of to)")
        return self

    @property
    def layout(self) -> str:
        """The layout to write: `to`, else the deprecated `format`, else alpaca."""
        return self.to or self.format or "alpaca"
    val_size: float = Field(0.1, ge=0)  # a fraction below 1, or a number of records
    seed: int = 42  # for the split
    name: str | None = None  # file and dataset_info names; default: the pipeline's name
    file_format: Literal["jsonl", "json"] = "jsonl"  # JSON Lines or one JSON array per file
    group_near_duplicates: bool = True  # near-duplicates never straddle the split
    stratify: bool = True  # validation gets the data's language mix


class StatsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tokenizer: str | None = None  # also count tokens with this local tokenizer
    html: str | None = None  # also write this HTML report (a file name in the stage folder)


def _dedupe_settings() -> type[BaseModel]:
    from datacraft.dedupe import DedupeConfig

    class DedupeSettings(DedupeConfig):
        against: list[str] = []  # reference files (relative to the pipeline file): drop what copies them

    return DedupeSettings


def _clean_settings() -> type[BaseModel]:
    from datacraft.clean import CleanConfig
    from datacraft.dedupe import DedupeConfig

    class CleanSettings(CleanConfig):
        dedupe: DedupeConfig | None = None  # in a pipeline dedupe is its own stage: off unless asked for

    return CleanSettings


def _build_clean(settings: Any, ledger: Ledger, base: Path) -> list[Stage]:
    from datacraft.clean import clean_stages

    return clean_stages(settings, ledger)


def _build_dedupe(settings: Any, ledger: Ledger, base: Path) -> list[Stage]:
    from datacraft.dedupe import DedupeConfig, dedupe_stages, read_references

    config = DedupeConfig(**settings.model_dump(exclude={"against"}))
    against = [str(base / p) for p in settings.against]
    return dedupe_stages(config, ledger, read_references(against) if against else None)


def _build_validate(settings: ValidateSettings, ledger: Ledger, base: Path) -> list[Stage]:
    from datacraft.validate import validation_filter

    return [validation_filter(ledger, settings.schema_, settings.forbid_extra or settings.strict)]


def _write_export(settings: ExportSettings, source: Path, out_dir: Path, name: str) -> dict[str, Any]:
    from datacraft.export import export_dataset

    return export_dataset([str(source)], str(out_dir), fmt=settings.layout, val_size=settings.val_size,
                          seed=settings.seed, name=settings.name or name, file_format=settings.file_format,
                          group_near_duplicates=settings.group_near_duplicates, stratify=settings.stratify)


def _write_stats(settings: StatsSettings, source: Path, out_dir: Path, name: str) -> dict[str, Any]:
    from datacraft.runner import write_json
    from datacraft.stats import compute_stats, write_html_report

    out_dir.mkdir(parents=True, exist_ok=True)
    stats = compute_stats([str(source)], tokenizer=settings.tokenizer)
    write_json(str(out_dir / "stats.json"), stats)
    if settings.html:
        write_html_report(stats, str(out_dir / settings.html))
    return {"records": stats.get("records")}


def _decontaminate_settings() -> type[BaseModel]:  # issue 15
    from datacraft.decontam.pipeline_stage import DecontamSettings

    return DecontamSettings


def _build_decontaminate(settings: Any, ledger: Ledger, base: Path) -> list[Stage]:  # issue 15
    from datacraft.decontam.pipeline_stage import build

    return build(settings, ledger, base)


@dataclass(frozen=True)
class StageSpec:
    """One registered stage: its settings model and either record stages or an output writer."""

    name: str
    settings: Callable[[], type[BaseModel]]  # lazy: a stage's model may import its package
    build: Callable[[Any, Ledger, Path], list[Stage]] | None = None
    write: Callable[[Any, Path, Path, str], dict[str, Any]] | None = None

    @property
    def makes_records(self) -> bool:
        return self.build is not None or self.name == "read"


REGISTRY: dict[str, StageSpec] = {spec.name: spec for spec in (
    StageSpec("read", lambda: ReadSettings),
    StageSpec("clean", _clean_settings, build=_build_clean),
    StageSpec("dedupe", _dedupe_settings, build=_build_dedupe),
    StageSpec("validate", lambda: ValidateSettings, build=_build_validate),
    StageSpec("decontaminate", _decontaminate_settings, build=_build_decontaminate),  # issue 15
    StageSpec("export", lambda: ExportSettings, write=_write_export),
    StageSpec("stats", lambda: StatsSettings, write=_write_stats),
)}
STAGE_KINDS = tuple(REGISTRY)


def check_stage(kind: str, settings: Any, source: str) -> BaseModel:
    """A stage's settings, validated; ConfigError `source: kind: unknown key 'x'` otherwise."""
    if kind not in REGISTRY:
        raise ConfigError(f"{source}: unknown stage {kind!r}; choose {', '.join(STAGE_KINDS)}")
    return validate_section(REGISTRY[kind].settings(), settings, f"{source}: {kind}")

