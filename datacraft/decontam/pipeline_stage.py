"""`decontaminate` as a registered stage of `datacraft run` (datacraft/registry.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from datacraft.decontam.config import DecontamConfig
from datacraft.decontam.run import Session, write_report
from datacraft.errors import ConfigError, InputError
from datacraft.records import Record
from datacraft.stages import Ledger, Stage


class DecontamSettings(DecontamConfig):
    against: list[str] = []  # eval files, relative to the pipeline file (required)
    llm: dict[str, Any] | None = None  # an `llm` section (model, base_url, ...) for cross_lingual and judge
    report: str | None = None  # write the per-benchmark report here (relative to the pipeline file)


def build(settings: DecontamSettings, ledger: Ledger, base: Path) -> list[Stage]:
    """The stage, with the eval sets loaded (and translated) when records start to flow."""
    from datacraft.llm.config import resolve_llm_config

    if not settings.against:
        raise ConfigError("decontaminate stage: `against` must list at least one eval file")
    against = [str(base / p) for p in settings.against]
    for path in against:
        if not Path(path).exists():
            raise InputError(path, "eval file not found")
    config = DecontamConfig(**settings.model_dump(exclude={"against", "llm", "report"}))
    llm = resolve_llm_config(settings.llm, where="decontaminate stage: llm") if settings.llm else None
    if (config.judge or (config.cross_lingual and config.translator == "llm")) and llm is None:
        raise ConfigError("decontaminate stage: cross_lingual and judge need an `llm` section with a model")

    def stage(records: Iterable[Record]) -> Iterator[Record]:
        with Session(against, config, llm, cache=base / ".decontaminate-cache.sqlite") as session:
            decontaminator = session.stage(ledger)
            yield from decontaminator(records)
            if settings.report:
                write_report(str(base / settings.report), session.report(decontaminator))

    return [stage]
