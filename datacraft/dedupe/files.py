"""`dedupe_file`: read inputs, run the exact and near stages, write survivors and rejects atomically."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from datacraft.dedupe.config import DedupeConfig
from datacraft.dedupe.exact import exact_dedupe
from datacraft.dedupe.stage import near_dedupe
from datacraft.errors import ConfigError, InputError
from datacraft.io.readers import iter_records
from datacraft.records import Record
from datacraft.runner import check_paths, run_stages
from datacraft.stages import Ledger, Stage


def dedupe_stages(config: DedupeConfig, ledger: Ledger, against: Iterator[Record] | None = None) -> list[Stage]:
    """The exact then the near stage, as the config switches them on."""
    if not config.enabled:
        return []
    stages: list[Stage] = []
    if config.exact:
        stages.append(exact_dedupe(ledger, config.fields))
    if config.threshold is not None:
        stages.append(near_dedupe(ledger, config, against))
    return stages


def read_references(paths: Sequence[str], read_options: dict[str, Any] | None = None) -> Iterator[Record]:
    """Records of the reference files, with `<stem>:<line>` ids where they have none; bad rows skipped."""
    for path in paths:
        stem = Path(path).stem
        for row in iter_records(path, **(read_options or {})):
            record = row.value
            if record.get("id") is None:
                record["id"] = f"{stem}:{row.line}"
            yield record


def _check_exists(paths: Sequence[str], what: str = "") -> None:
    for path in paths:
        if path != "-" and not os.path.exists(path):
            raise InputError(path, f"{what}file not found")


def dedupe_file(inputs: Sequence[str], output: str, *, rejects: str | None = None,
                config: DedupeConfig | None = None, against: Sequence[str] = (),
                read_options: dict[str, Any] | None = None, stats: str | None = None,
                strict: bool = False) -> dict[str, Any]:
    """Remove exact and near duplicates from `inputs` into `output`; returns the counts."""
    config = config or DedupeConfig()
    inputs, against = list(inputs), list(against)
    check_paths(inputs, {"output": output, "--rejects": rejects, "--stats": stats}, references=against)
    _check_exists(inputs)
    _check_exists(against, "reference ")
    if against and (not config.enabled or config.threshold is None):
        raise ConfigError("--against needs the near-duplicate stage: set a threshold and enabled: true")
    options = read_options or {}
    references = read_references(against, options) if against else None
    return run_stages(inputs, output, lambda ledger: dedupe_stages(config, ledger, references), rejects=rejects,
                      stats=stats, read_options=options, strict=strict, references=against, desc="dedupe")
