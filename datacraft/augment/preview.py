"""`preview`: what the methods would make from a file, as (source, copy) pairs, with nothing written (`--dry-run`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datacraft.augment.clients import make_resources
from datacraft.augment.config import AugmentConfig
from datacraft.augment.runner import Augmenter, _blocks, views
from datacraft.augment.translate import Translator
from datacraft.clean import CleanConfig
from datacraft.errors import ConfigError
from datacraft.llm import LLMConfig
from datacraft.records import Record
from datacraft.stages import Ledger, RejectSink, read_stage


def preview(inputs: Sequence[str], count: int, *, config: AugmentConfig | None = None, clean: CleanConfig | None = None,
            llm: LLMConfig | None = None, translator: Translator | None = None, read_options: dict | None = None,
            strict: bool = False) -> tuple[list[tuple[Record, Record]], dict[str, Any]]:
    """The first `count` (source, copy) pairs the methods make from `inputs`, and the counts so far; nothing is written.

    LLM replies are cached only when `llm.cache` names a file (there is no output folder to keep one in).
    """
    config = config or AugmentConfig()
    inputs = [str(p) for p in inputs]
    if not inputs:
        raise ConfigError("no input files given (use - to read stdin)")
    translator, client, store = make_resources(config, llm, None, translator)
    pairs: list[tuple[Record, Record]] = []
    augmenter: Augmenter | None = None
    try:
        with RejectSink(None) as sink:
            ledger = Ledger(sink)
            records = views(read_stage(inputs, ledger, strict=strict, **dict(read_options or {})), config)
            augmenter = Augmenter(config, ledger, clean=clean, translator=translator, client=client)
            for block in _blocks(records, config.block_size):
                sources = {str(v.record.get("id")): v.record for v in block}
                for record in augmenter.block(block):
                    origin = (record.get("meta") or {}).get("augmented_from")
                    if isinstance(origin, str) and origin in sources and record is not sources[origin]:
                        pairs.append((sources[origin], record))
                if len(pairs) >= count:
                    break
    finally:
        if augmenter is not None:
            augmenter.close(client.aclose() if client is not None and augmenter.loop is not None else None)
        if store is not None:
            store.close()
    result = ledger.to_dict(len(pairs))
    result["methods"] = {m: {"produced": s.kept, "rejected": s.dropped, "reasons": dict(s.rejected.most_common())}
                         for m, s in ledger.stages.items() if m != "read"}
    return pairs[:count], result
