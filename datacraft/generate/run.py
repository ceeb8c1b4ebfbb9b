"""`run_generation`: set up a (possibly resumed) generation run, run it, write its outputs.

Beside `-o out.jsonl` lives `out.jsonl.run/` with the journal (`journal.jsonl`), the response
cache (`cache.sqlite`) and a snapshot of each feedback version (`feedback/<version>.jsonl`), and
`out.manifest.json` records the settings, rounds and usage. The output, rejects and manifest are
rewritten atomically from the journal at the end of every run, including an interrupted one.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from datacraft import __version__
from datacraft.clean import CleanConfig
from datacraft.errors import ConfigError
from datacraft.generate.config import GenerateConfig
from datacraft.generate.docs import iter_chunks
from datacraft.generate.engine import Generator, Progress
from datacraft.generate.feedback import (
    ACCEPTED,
    EDITED,
    Feedback,
    FeedbackEntry,
    apply_decisions,
    load_feedback,
)
from datacraft.generate.journal import Journal, JournalState, RoundState, header
from datacraft.generate.kinds import (
    KIND_SETTINGS,
    KIND_TEMPLATES,
    candidate_writers,
    check_kind,
    kind_parts,
    round_context,
)
from datacraft.generate.lang import majority_language
from datacraft.generate.multiturn import build_multiturn_prompt
from datacraft.generate.novelty import NoveltyChecker
from datacraft.generate.preference import ask_preference, prompt_messages
from datacraft.generate.prompts import template_version
from datacraft.generate.requests import RoundContext, build_prompt, request_seed
from datacraft.generate.seeds import content_version, load_seeds, seed_warnings
from datacraft.io.writers import JsonlWriter, atomic_write, check_not_input, write_records
from datacraft.llm import Budget, LLMClient, LLMConfig, ResponseCache, api_key
from datacraft.records import Record

# Settings that change what a prompt says: a change starts a new round.
_PROMPT_SETTINGS = ("batch_size", "seeds_per_prompt", "earlier_per_prompt", "feedback_per_prompt", "temperature",
                    "max_tokens", "seed", "qa_per_chunk", "chunk_chars", "application", "criteria")


def state_dir(output: str) -> Path:
    """Where a run keeps its journal and cache: `<output>.run/`."""
    return Path(f"{output}.run")


def manifest_path(output: str) -> Path:
    """`generated.jsonl` -> `generated.manifest.json`."""
    path = Path(output)
    return path.with_name(f"{path.stem}.manifest.json")


def run_generation(output: str, *, llm: LLMConfig, seeds: str | None = None, docs: Sequence[str] = (),
                   feedback: str | None = None, rejects: str | None = None, config: GenerateConfig | None = None,
                   clean: CleanConfig | None = None, max_requests: int | None = None, max_cost: float | None = None, restart: bool = False,
                   progress: Progress | None = None, warn: Callable[[str], None] | None = None,
                   read_options: dict[str, Any] | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Generate until `config.n` items are accepted (or a budget/round limit/Ctrl-C); returns the summary.

    With `dry_run`, nothing is sent or written: the summary is {"request": the body of the next request}.
    """
    config = config or GenerateConfig()
    clean = clean or CleanConfig()
    docs = [str(d) for d in docs]
    _check_options(output, seeds, docs, feedback, rejects, llm, max_cost, config.kind,
                   config.models if config.kind == "preference" else ())
    check_kind(config, llm)
    key = api_key(llm)  # a missing key fails here, before anything is written
    load_feedback(feedback)  # a bad feedback file too (it is read again at every round)
    seed_records = load_seeds(seeds, read_options) if seeds else []
    warnings = seed_warnings(seed_records, examples=config.kind != "preference") if seeds and not docs else []
    for warning in warnings if warn else ():
        warn(warning)
    chunks = list(iter_chunks(docs, config.chunk_chars)) if docs else None
    if chunks is not None and not chunks:
        raise ConfigError(f"no text found in {', '.join(docs)}")
    lang = config.lang
    if lang == "auto" and chunks is None:  # the seeds' language; from documents: each passage's
        lang = majority_language(f"{s.get('instruction', '')} {s.get('output', '')}" for s in seed_records)

    run_dir = state_dir(output)
    journal = Journal(run_dir / "journal.jsonl")
    if dry_run:
        return {"request": _preview(journal, restart, config, llm, key, seed_records, chunks, lang, feedback)}
    if restart:
        journal.remove()
    elif Path(output).exists() and not journal.path.exists():
        raise ConfigError(f"{output} exists but no unfinished generate run belongs to it ({journal.path} is "
                          "missing); pass --restart to replace it, or choose another -o")
    state = journal.replay()
    state.set_removed(load_feedback(feedback).decisions())  # records rejected in review do not count towards -n
    mode = "docs" if chunks is not None else "seeds" if config.kind == "single" else f"seeds:{config.kind}"
    sources = {"docs": content_version([c.provenance()["chunk"]["sha1"] for c in chunks]) if chunks else None}
    if state.header is None:
        journal.append(header(mode, sources), state)
    elif state.header.get("mode") != mode or state.header.get("docs") != sources["docs"]:
        raise ConfigError(f"{journal.path} belongs to a run {'from other documents' if mode == 'docs' else 'of another kind'}"
                          "; choose another -o, or pass --restart to start over")

    novelty = NoveltyChecker(config.rouge_threshold, config.near_threshold)
    checker, asker = kind_parts(config, clean, novelty, llm.model or "", seed_records)
    if config.kind != "preference":  # a preference run answers given prompts: nothing to be novel against
        novelty.add_many([checker.novelty_view(s) for s in seed_records], [s["id"] for s in seed_records], kind="seed")
        novelty.add_many([checker.novelty_view(r) for r in state.accepted], [r.get("id", "") for r in state.accepted])

    def next_round() -> tuple[RoundState, RoundContext]:
        fb = load_feedback(feedback)
        if fb.version is not None:
            snapshot = run_dir / "feedback" / f"{fb.version}.jsonl"
            if not snapshot.exists() and feedback is not None:
                snapshot.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(feedback, snapshot)
        identity, info = _round_identity(config, llm, lang, seed_records, chunks, fb)
        last = state.rounds[-1] if state.rounds else None
        if last is None or last.identity != identity or (
                config.round_size is not None and len(state.accepted) >= last.pool + config.round_size):
            journal.append({"type": "round", "round": len(state.rounds) + 1, "identity": identity,
                            "feedback": fb.version, "pool": len(state.accepted),
                            "first_request": state.next_request, "info": info}, state)
            last = state.rounds[-1]
        decisions = fb.decisions()
        state.set_removed(decisions)
        ctx = round_context(config, last.round, seed_records, good_examples(state.accepted[:last.pool], decisions),
                       fb, lang, chunks)
        return last, ctx

    store = ResponseCache(llm.cache or run_dir / "cache.sqlite") if llm.use_cache else None
    # the cost cap covers the whole job: what earlier runs of this -o spent counts against it
    budget = Budget(max_requests, max_cost, spent_before=state.usage.get("cost", 0.0),
                    paid_before=int(state.usage.get("calls", 0) - state.usage.get("cached", 0)))
    client = LLMClient(llm, cache=store, budget=budget, key=key)
    writers = candidate_writers(config, llm, client, store, budget, key)
    if writers:
        asker = partial(ask_preference, writers=writers)
    generator = Generator(config, client, journal, state, checker, progress, asker)
    stopped = "interrupted"
    try:
        stopped = asyncio.run(_main(client, generator, next_round, list(writers.values())))
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        journal.close()
        if store is not None:
            store.close()
        summary = _finish(output, rejects, state, config, llm, client, stopped, warnings,
                          {"seeds": seeds, "docs": docs, "feedback": feedback, "lang": lang})
    return summary


async def _main(client: LLMClient, generator: Generator, next_round: Any, others: Sequence[LLMClient] = ()) -> str:
    """Run the generator; SIGTERM (a `kill`, a container stop) ends it the way Ctrl-C does."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    terminated = False

    def on_term() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, on_term)
        handled = True
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
        handled = False
    try:
        async with client, contextlib.AsyncExitStack() as stack:
            for other in others:
                await stack.enter_async_context(other)
            return await generator.run(next_round)
    except asyncio.CancelledError:
        if terminated:
            return "terminated"
        raise
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGTERM)


def _round_identity(config: GenerateConfig, llm: LLMConfig, lang: str, seed_records: list[Record],
                    chunks: list[Any] | None, fb: Feedback) -> tuple[str, dict[str, Any]]:
    """(identity, info) of the round these settings and this feedback make: a change starts a new round."""
    name = f"{'from_docs' if chunks is not None else 'generate'}_{'en' if lang == 'auto' else lang}"
    name = KIND_TEMPLATES.get(config.kind, name)
    template = template_version(name, config.prompt if config.kind != "preference" else None)
    info = {"mode": "docs" if chunks is not None else "seeds", "lang": lang, "model": llm.model,
            "seeds_version": content_version(seed_records), "template": template, "feedback_entries": len(fb.entries),
            **{key: getattr(config, key) for key in _PROMPT_SETTINGS}}
    if config.kind != "single":  # (only then: a single-turn journal from before keeps its round identity)
        info.update({"kind": config.kind, **{key: getattr(config, key) for key in KIND_SETTINGS[config.kind]}})
    return content_version([fb.version, info]), info


def _preview(journal: Journal, restart: bool, config: GenerateConfig, llm: LLMConfig, key: str,
             seed_records: list[Record], chunks: list[Any] | None, lang: str, feedback: str | None) -> dict[str, Any]:
    """The body of the request a run would send next, built exactly as the run builds it; nothing is sent."""
    state = JournalState() if restart or not journal.path.exists() else journal.replay()
    fb = load_feedback(feedback)
    identity, _ = _round_identity(config, llm, lang, seed_records, chunks, fb)
    last = state.rounds[-1] if state.rounds else None
    continues = last is not None and last.identity == identity and not (
        config.round_size is not None and len(state.accepted) >= last.pool + config.round_size)
    pool = last.pool if continues and last is not None else len(state.accepted)
    ctx = round_context(config, len(state.rounds) + (0 if continues else 1), seed_records,
                   good_examples(state.accepted[:pool], fb.decisions()), fb, lang, chunks)
    client = LLMClient(llm, key=key)
    if config.kind == "preference":  # the first candidate answer to the next prompt
        if state.next_request >= len(seed_records):
            raise ConfigError("every seed prompt has its preference pair already: nothing left to send")
        messages = prompt_messages(seed_records[state.next_request])
        model, temperature = config.candidates(llm.model or "")[0]
        params = client.params(seed=request_seed(config, state.next_request), temperature=temperature,
                               max_tokens=config.max_tokens)
        return {"model": model, "messages": messages, **client.wire(params)}
    build = build_multiturn_prompt if config.kind == "multi-turn" else build_prompt
    messages = build(config, ctx, state.next_request)[0]
    params = client.params(json_mode=True, seed=request_seed(config, state.next_request),
                           temperature=config.temperature, max_tokens=config.max_tokens)
    return {"model": llm.model, "messages": messages, **client.wire(params)}


def good_examples(records: list[Record], decisions: dict[tuple[str, str], FeedbackEntry]) -> list[Record]:
    """The records a prompt may show as good examples: once anything was reviewed, only accepted or edited ones."""
    if not decisions:
        return records
    kept, _ = apply_decisions(records, decisions)
    return [r for r in kept if r["meta"]["review"]["verdict"] in (ACCEPTED, EDITED)]


def _check_options(output: str, seeds: str | None, docs: list[str], feedback: str | None, rejects: str | None,
                   llm: LLMConfig, max_cost: float | None, kind: str = "single", models: Sequence[str] = ()) -> None:
    """Reject conflicting or impossible options before any work starts."""
    if not seeds and not docs:
        raise ConfigError("nothing to generate from: pass --seeds FILE or --from-docs FILE")
    if kind != "single" and docs:
        raise ConfigError(f"--kind {kind} works from --seeds, not --from-docs (use --kind single for document Q&A)")
    if output == "-":
        raise ConfigError("generate needs a file for -o (its resume journal lives beside it), not stdout")
    inputs = [p for p in (seeds, *docs, feedback) if p]
    check_not_input(output, inputs)
    if rejects:
        check_not_input(rejects, [*inputs, output])
    for model in [llm.model or "", *models] if max_cost is not None else ():
        if llm.price(model) is None:
            raise ConfigError(f"--max-cost needs the price of model {model!r}: add it under llm.prices in the "
                              "config file (USD per 1M input and output tokens)")


def _finish(output: str, rejects: str | None, state: JournalState, config: GenerateConfig, llm: LLMConfig,
            client: LLMClient, stopped: str, warnings: list[str], sources: dict[str, Any]) -> dict[str, Any]:
    """Write the output (review decisions applied), rejects and manifest from the journal; return the summary."""
    records, removed = state.accepted, []
    if sources["feedback"] is not None:
        records, removed = apply_decisions(state.accepted, load_feedback(sources["feedback"]).decisions())
    written = write_records(output, records[:config.n])
    if rejects:
        with JsonlWriter(rejects) as writer:
            for entry in state.rejects:
                writer.write({"stage": "generate", **entry})
            for entry in removed:
                writer.write(entry)
    reasons = Counter(entry["reason"] for entry in [*state.rejects, *removed])
    verdicts = Counter((r.get("meta") or {}).get("review", {}).get("verdict") for r in records[:config.n])
    summary: dict[str, Any] = {
        "output": output, "written": written, "accepted": len(state.accepted), "n": config.n,
        "kept": written, "rejected": len(state.rejects) + len(removed), "reasons": dict(reasons.most_common()),
        "review": {"rejected": len(removed), "accepted": verdicts.get(ACCEPTED, 0), "edited": verdicts.get(EDITED, 0),
                   "unreviewed": verdicts.get("unreviewed", 0)},
        "stopped": stopped, "rounds": len(state.rounds), "usage": client.usage.to_dict(),
        "usage_total": {k: round(v, 6) for k, v in state.usage.items()},
        "journal": str(state_dir(output)), "manifest": str(manifest_path(output)), "warnings": warnings,
    }
    manifest = {
        "command": "generate", "datacraft": __version__, **summary, "sources": sources,
        "llm": llm.public(), "generate": config.model_dump(mode="json"),
        "rounds": [{"round": r.round, "feedback_version": r.feedback, "first_request": r.first_request,
                    "requests": r.requests, "accepted": r.accepted, "rejected": r.rejected, **r.info}
                   for r in state.rounds],
    }
    with atomic_write(manifest_path(output), "wb") as handle:
        handle.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    return summary
