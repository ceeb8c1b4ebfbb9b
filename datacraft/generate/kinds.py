"""What differs between the kinds of `generate` (single, multi-turn, preference): checker, request, limits, options."""

from __future__ import annotations

from functools import partial
from typing import Any

from datacraft.clean import CleanConfig
from datacraft.errors import ConfigError
from datacraft.generate.accept import ItemChecker
from datacraft.generate.config import GenerateConfig
from datacraft.generate.engine import Asker
from datacraft.generate.feedback import Feedback
from datacraft.generate.multiturn import TEMPLATE as MULTITURN_TEMPLATE
from datacraft.generate.multiturn import (
    MultiTurnChecker,
    build_multiturn_prompt,
    parse_conversations,
)
from datacraft.generate.novelty import NoveltyChecker
from datacraft.generate.preference import JUDGE_TEMPLATE, PreferenceChecker, ask_preference
from datacraft.generate.requests import RoundContext, ask
from datacraft.llm import Budget, LLMClient, LLMConfig, ResponseCache
from datacraft.records import Record

# Settings of a kind that change what its requests say: a change starts a new round.
KIND_SETTINGS = {"multi-turn": ("turns",), "preference": ("temperatures", "models", "judge_retries")}
KIND_TEMPLATES = {"multi-turn": MULTITURN_TEMPLATE, "preference": JUDGE_TEMPLATE}


def check_kind(config: GenerateConfig, llm: LLMConfig) -> None:
    """Reject settings a kind cannot use, before any work starts."""
    if config.kind != "preference":
        return
    if len(config.candidates(llm.model or "")) < 2:
        raise ConfigError("--kind preference needs at least 2 candidates to compare: give 2+ temperatures "
                          "(--temperatures 0.3,1.0) or 2+ models (--models a,b)")
    if len(set(config.models)) < len(config.models):
        raise ConfigError(f"--models names a model twice: {','.join(config.models)}")
    if llm.temperature is not None:
        raise ConfigError(f"llm.temperature ({llm.temperature}) would give every candidate the same temperature; "
                          "remove it and set the candidates' temperatures with --temperatures")
    if config.prompt is not None:
        raise ConfigError("--prompt is the template that asks for new records; --kind preference answers the seeds' "
                          "own prompts and judges with prompts/preference_judge.j2")


def kind_parts(config: GenerateConfig, clean: CleanConfig, novelty: NoveltyChecker, model: str,
               seeds: list[Record]) -> tuple[Any, Asker]:
    """(the checker that judges a request's items, what one request does) for the run's --kind."""
    if config.kind == "multi-turn":
        return MultiTurnChecker(clean, novelty, model, config.turns), partial(
            ask, build=build_multiturn_prompt, parse=parse_conversations)
    if config.kind == "preference":
        return PreferenceChecker(clean, model, seeds), ask_preference
    return ItemChecker(clean, novelty, model, config.min_support), ask


def candidate_writers(config: GenerateConfig, llm: LLMConfig, judge: LLMClient, store: ResponseCache | None,
                      budget: Budget, key: str) -> dict[str, LLMClient]:
    """Clients for the --models other than the judge's: same endpoint, cache, budget, usage and concurrency."""
    writers = {}
    for model in config.models if config.kind == "preference" else ():
        if model == llm.model:
            continue
        writer = LLMClient(llm.model_copy(update={"model": model}), cache=store, budget=budget, key=key)
        writer.usage, writer.limiter = judge.usage, judge.limiter  # one endpoint: one tally, one concurrency limit
        writers[model] = writer
    return writers


def round_context(config: GenerateConfig, number: int, seeds: list[Record], earlier: list[Record], fb: Feedback,
                  lang: str, chunks: list[Any] | None) -> RoundContext:
    """What every request of a round shares; a run from documents or prompts ends when they are used up."""
    ctx = RoundContext(number, seeds, earlier, fb.for_prompt(config.feedback_per_prompt), fb.version, lang, chunks)
    if chunks is not None:
        ctx.limit = len(chunks)
    elif config.kind == "preference":  # one request per seed prompt, one pair per request
        ctx.limit, ctx.used_up, ctx.per_request = len(seeds), "prompts_used_up", 1
    return ctx
