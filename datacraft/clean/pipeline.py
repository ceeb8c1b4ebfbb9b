"""The clean pipeline: read -> normalize -> filter -> exact_dedupe -> near_dedupe -> write.

Every dropped record goes to the rejects file with its stage, reason and detail, so
`kept + rejected == read` holds for every run (bad input lines are rejected by the read stage).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from datacraft.clean.blockstats import TextStats
from datacraft.clean.checks import load_block, record_filter
from datacraft.clean.config import CleanConfig, FilterConfig
from datacraft.clean.normalize import Normalizer
from datacraft.dedupe import dedupe_stages, read_references
from datacraft.errors import ConfigError
from datacraft.records import Record
from datacraft.runner import check_paths, run_stages
from datacraft.stages import Ledger, Stage, blocks, filter_stage, map_stage


def dedupe_enabled(config: CleanConfig) -> bool:
    """False when the config says `dedupe: null` or `dedupe: {enabled: false}`."""
    return config.dedupe is not None and config.dedupe.enabled


def clean_stages(config: CleanConfig, ledger: Ledger, against: Iterable[Record] | None = None, *,
                 normalizer: Normalizer | None = None) -> list[Stage]:
    """The stages after reading: normalize, filter, then exact and near dedupe unless disabled."""
    normalizer = normalizer or Normalizer(config.normalize)
    stages = [block_normalize_stage(normalizer, ledger), block_filter_stage(config.filters, ledger)]
    if config.dedupe is not None:
        stages.extend(dedupe_stages(config.dedupe, ledger, against))
    return stages


BLOCK = 256  # records whose texts are counted together (numpy) before the checks run one by one


def block_normalize_stage(normalizer: Normalizer, ledger: Ledger, block: int = BLOCK) -> Stage:
    """The `normalize` stage, taking records in blocks: character classes are found for a block at once."""
    inner = map_stage("normalize", normalizer, ledger)

    def stage(records: Iterable[Record]) -> Iterator[Record]:
        for batch, feed in blocks(records, block, ledger.rejects):
            normalizer.load_block(batch)
            yield from inner(feed())
        normalizer.classes = {}

    return stage


def block_filter_stage(filters: FilterConfig, ledger: Ledger, block: int = BLOCK) -> Stage:
    """The `filter` stage, taking records in blocks: each block's text counts are computed at once.

    Verdicts and order are those of `filter_stage(record_filter(filters))`; only the work differs.
    """
    stats = TextStats(filters.max_char_run)
    inner = filter_stage("filter", record_filter(filters, stats), ledger)

    def stage(records: Iterable[Record]) -> Iterator[Record]:
        for batch, feed in blocks(records, block, ledger.rejects):
            load_block(stats, batch)
            yield from inner(feed())
        stats.clear()

    return stage


def quality_check(config: CleanConfig | None = None) -> Callable[[Record], tuple[bool, str, str]]:
    """Normalise one record and run every filter on it (no dedupe): (ok, reason, detail)."""
    config = config or CleanConfig()
    normalizer = Normalizer(config.normalize)
    keep = record_filter(config.filters)
    return lambda record: keep(normalizer(record))


def clean_file(inputs: Sequence[str], output: str, *, rejects: str | None = None, config: CleanConfig | None = None,
               against: Sequence[str] = (), read_options: dict | None = None, strict: bool = False,
               transform: Callable[[Record], Record] | None = None) -> dict:
    """Clean `inputs` into `output` (JSONL, atomic); drops go to `rejects`.

    Returns the Ledger counts plus `normalized`: how many records each normalisation step changed.
    """
    config = config or CleanConfig()
    against = [str(p) for p in against]
    check_paths(inputs, {"output": output, "--rejects": rejects}, references=against)
    if against and not dedupe_enabled(config):
        raise ConfigError("--against compares with reference data during dedupe; it cannot be used with dedupe off")
    read_options = dict(read_options or {})
    normalizer = Normalizer(config.normalize)
    reference = _reference(against, config, read_options) if against else None

    def build(ledger: Ledger) -> list[Stage]:
        stages = clean_stages(config, ledger, reference, normalizer=normalizer)
        return [lambda records: map(transform, records), *stages] if transform else stages  # e.g. a system prompt

    result = run_stages(inputs, output, build, rejects=rejects, read_options=read_options, strict=strict,
                        references=against, desc="clean")
    result.pop("seconds", None)
    result["normalized"] = dict(normalizer.changes.most_common())
    return result


def _reference(paths: list[str], config: CleanConfig, read_options: dict[str, Any]) -> Iterator[Record]:
    """Reference records, normalised like the input so they compare like for like (read lazily)."""
    normalizer = Normalizer(config.normalize)  # its own counts: references are not part of the run
    for record in read_references(paths, read_options):
        yield normalizer(record)
