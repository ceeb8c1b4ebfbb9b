"""`mix_file`: domain records plus a rehearsal share of general data, sampled per source, reproducibly.

General records are deduplicated (exact, then near-duplicates within the general data and of any
domain record, with dedupe's own stages) before sampling, so rehearsal never re-adds a domain item.
The share is of the output: `--ratio 0.2` makes general records 20% of the mixed file, by record
count (exact to the nearest record) or by tokens (within 1%). Every output record carries
`meta.mix_source` (the file, or the meta key it was stratified by) and `meta.mix_role`.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

from datacraft.decontam.text import all_text
from datacraft.dedupe import DedupeConfig, exact_dedupe, near_dedupe
from datacraft.errors import ConfigError, InputError
from datacraft.io.writers import atomic_write, check_not_input, write_records
from datacraft.mix.sample import allocate, general_count, pick_tokens
from datacraft.records import Record
from datacraft.stages import Ledger, RejectSink, chain, read_stage
from datacraft.textutil import text_length

SAMPLE_STAGE = "sample"
NOT_SAMPLED = "not_sampled"  # counted, not written: these are the rest of GENERAL, unchanged on disk
TOKEN_TOLERANCE = 0.01  # relative error allowed on the token share


TokenCount = Callable[[Record], int]


def record_tokens(record: Record) -> int:
    """Length of every prompt and answer, in words plus CJK characters (textutil.text_length)."""
    return text_length(all_text(record))


def token_counter(tokenizer: str | Callable[[str], Sequence[Any]] | None) -> TokenCount:
    """Tokens per record: a tokenizer's (a callable, or a transformers name/path loaded offline), else words + CJK."""
    if tokenizer is None:
        return record_tokens
    from datacraft.stats.compute import load_tokenizer

    tokenize, note = load_tokenizer(tokenizer)
    if tokenize is None:
        raise ConfigError(f"--tokenizer: {note.removeprefix('token lengths skipped: ') if note else 'cannot load it'}")
    return lambda record: len(tokenize(all_text(record)))


def _tag(record: Record, source: str, role: str) -> Record:
    meta = dict(record.get("meta") or {})
    meta["mix_source"], meta["mix_role"] = source, role
    return {**record, "meta": meta}


def _stem(path: str) -> str:
    return "stdin" if path == "-" else Path(path).stem


def _source(record: Record, stem: str, key: str | None) -> str:
    if key:
        value = (record.get("meta") or {}).get(key)
        if value is not None:
            return str(value)
    return stem


def _general(paths: Sequence[str], ledger: Ledger, key: str | None, strict: bool,
             read_options: dict[str, Any]) -> Iterator[Record]:
    for path in paths:
        stem = _stem(path)
        for record in read_stage([path], ledger, strict=strict, **read_options):
            yield _tag(record, _source(record, stem, key), "general")


def _check(domain: list[str], general: list[str], output: str, rejects: str | None, stats: str | None,
           ratio: float) -> None:
    if not domain:
        raise ConfigError("no domain file given")
    if not general:
        raise ConfigError("no general data given: pass --general FILE (repeatable)")
    if not 0 <= ratio < 1:
        raise ConfigError(f"--ratio {ratio} must be at least 0 and below 1 (the general share of the output)")
    for path in domain + general:
        if path != "-" and not Path(path).exists():
            raise InputError(path, "file not found")
    if (domain + general).count("-") > 1:
        raise ConfigError("stdin (-) can be read only once")
    targets = [t for t in (output, rejects, stats) if t and t != "-"]
    if len(set(targets)) < len(targets):
        raise ConfigError("the output, --rejects and --stats files must differ")
    for target in (output, rejects, stats):
        if target:
            check_not_input(target, domain + general)


def mix_file(domain: Sequence[str], general: Sequence[str], output: str, *, ratio: float = 0.2,
             by: Literal["records", "tokens"] = "records", seed: int = 0, rejects: str | None = None,
             stats: str | None = None, dedupe: DedupeConfig | None = None, source_key: str | None = None,
             shuffle: bool = True, read_options: dict[str, Any] | None = None, strict: bool = False,
             tokenizer: str | Callable[[str], Sequence[Any]] | None = None) -> dict[str, Any]:
    """Write domain + sampled general records to `output`; returns counts per source and the share reached."""
    domain, general = list(domain), list(general)
    _check(domain, general, output, rejects, stats, ratio)
    started = time.perf_counter()
    options = read_options or {}
    dedupe = dedupe or DedupeConfig()
    rng = random.Random(seed)
    count = token_counter(tokenizer)  # before any work: a tokenizer that cannot load stops the run here
    with RejectSink(rejects) as sink:
        ledger = Ledger(sink)
        ledger.stage("read")
        domain_records = [_tag(r, _stem(p), "domain") for p in domain
                          for r in read_stage([p], ledger, strict=strict, **options)]
        if not domain_records:
            raise InputError(domain[0], "no domain records to mix into")
        stages = []
        if dedupe.enabled and dedupe.exact:
            stages.append(exact_dedupe(ledger, dedupe.fields))
        if dedupe.enabled and dedupe.threshold is not None:
            stages.append(near_dedupe(ledger, dedupe, iter(domain_records)))
        pool: dict[str, list[Record]] = defaultdict(list)
        for record in chain(_general(general, ledger, source_key, strict, options), *stages):
            pool[record["meta"]["mix_source"]].append(record)
        chosen, target = _sample(pool, domain_records, ratio, by, rng, count)
        sample_stats = ledger.stage(SAMPLE_STAGE)
        available = sum(len(v) for v in pool.values())
        sample_stats.read = available
        sample_stats.kept = sum(len(v) for v in chosen.values())
        if available - sample_stats.kept:
            sample_stats.rejected[NOT_SAMPLED] = available - sample_stats.kept
    mixed = domain_records + [r for name in sorted(chosen) for r in chosen[name]]
    if shuffle:
        rng.shuffle(mixed)
    kept = write_records(output, iter(mixed))
    result = ledger.to_dict(kept)
    result.update(_shares(domain_records, chosen, pool, ratio, by, target, count))
    result["tokenizer"] = tokenizer if isinstance(tokenizer, str) else None if tokenizer is None else "custom"
    result["seconds"] = round(time.perf_counter() - started, 3)
    if stats:
        with atomic_write(stats, "wb") as handle:
            handle.write(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    return result


def _sample(pool: dict[str, list[Record]], domain: list[Record], ratio: float, by: str,
            rng: random.Random, count: TokenCount) -> tuple[dict[str, list[Record]], float]:
    names = sorted(pool)
    if by == "records":
        target = general_count(len(domain), ratio)
        available = sum(len(pool[n]) for n in names)
        if target > available:
            raise ConfigError(f"--ratio {ratio} needs {target} general records but only {available} are left "
                              "after dedupe; add --general data or lower --ratio")
        counts = allocate(target, {n: len(pool[n]) for n in names})
        return {n: [pool[n][i] for i in sorted(rng.sample(range(len(pool[n])), counts[n]))] for n in names}, target
    domain_tokens = sum(count(r) for r in domain)
    target = ratio * domain_tokens / (1 - ratio) if ratio else 0.0
    lengths = {n: [count(r) for r in pool[n]] for n in names}
    available = sum(sum(v) for v in lengths.values())
    if target > available:
        raise ConfigError(f"--ratio {ratio} needs {target:.0f} general tokens but only {available} are left "
                          "after dedupe; add --general data or lower --ratio")
    budgets = {n: target * sum(lengths[n]) / available for n in names} if available else {}
    return {n: [pool[n][i] for i in sorted(pick_tokens(lengths[n], budgets[n], rng))] for n in names}, target


def _shares(domain: list[Record], chosen: dict[str, list[Record]], pool: dict[str, list[Record]], ratio: float,
            by: str, target: float, count: TokenCount) -> dict[str, Any]:
    general_records = sum(len(v) for v in chosen.values())
    domain_tokens = sum(count(r) for r in domain)
    general_tokens = sum(count(r) for v in chosen.values() for r in v)
    total_records, total_tokens = len(domain) + general_records, domain_tokens + general_tokens
    share_records = general_records / total_records if total_records else 0.0
    share_tokens = general_tokens / total_tokens if total_tokens else 0.0
    reached = share_tokens if by == "tokens" else share_records
    return {
        "by": by, "ratio": ratio, "target": round(target, 3), "share": round(reached, 6),
        "share_records": round(share_records, 6), "share_tokens": round(share_tokens, 6),
        "within_tolerance": abs(reached - ratio) <= (TOKEN_TOLERANCE * ratio if by == "tokens" else 1 / max(total_records, 1)),
        "domain": {"records": len(domain), "tokens": domain_tokens},
        "general": {name: {"available": len(pool[name]), "sampled": len(chosen.get(name, [])),
                           "tokens": sum(count(r) for r in chosen.get(name, []))} for name in sorted(pool)},
    }
