"""`dedupe_file`: read inputs, run the exact and near stages, write survivors and rejects atomically."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from datacraft.dedupe.config import DedupeConfig
from datacraft.dedupe.exact import exact_dedupe
from datacraft.dedupe.stage import near_dedupe
from datacraft.errors import ConfigError, InputError
from datacraft.io.readers import iter_records
from datacraft.io.writers import atomic_write, check_not_input, write_records
from datacraft.records import Record
from datacraft.stages import Ledger, RejectSink, Stage, chain, read_stage


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
    if not inputs:
        raise ConfigError("no input files given")
    _check_exists(inputs)
    _check_exists(against, "reference ")
    for target in (output, rejects, stats):
        if target:
            check_not_input(target, inputs + against)
    if against and (not config.enabled or config.threshold is None):
        raise ConfigError("--against needs the near-duplicate stage: set a threshold and enabled: true")
    started = time.perf_counter()
    options = read_options or {}
    with RejectSink(rejects) as sink:
        ledger = Ledger(sink)
        ledger.stage("read")  # first in the ledger: its count is the run's "read" total
        records = read_stage(inputs, ledger, strict=strict, **options)
        stages = dedupe_stages(config, ledger, read_references(against, options) if against else None)
        kept = write_records(output, chain(records, *stages))
    result = ledger.to_dict(kept)
    result["seconds"] = round(time.perf_counter() - started, 3)
    if stats:
        with atomic_write(stats, "wb") as handle:
            handle.write(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    return result
