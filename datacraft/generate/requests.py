"""One generation request: its prompt (a pure function of the round and the request number) and its reply.

Prompts are deterministic, so a rerun builds byte-identical requests and the response cache
answers the ones already paid for.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from datacraft.generate.config import GenerateConfig
from datacraft.generate.docs import Chunk, chunk_order
from datacraft.generate.feedback import FeedbackEntry
from datacraft.generate.lang import NAMES, text_language
from datacraft.generate.parse import ParsedReply, parse_items
from datacraft.generate.prompts import Messages, render, repair_messages
from datacraft.llm import Completion, LLMClient, RequestFailed
from datacraft.records import Record, training_view


@dataclass
class RoundContext:
    """What every request of a round shares."""

    number: int
    seeds: list[Record]
    earlier: list[Record]  # accepted before the round began
    feedback: list[FeedbackEntry]
    feedback_version: str | None
    lang: str  # a prompt language (datacraft.generate.lang.LANGS), or "auto" (docs: per chunk)
    chunks: list[Chunk] | None = None  # --from-docs
    limit: int | None = None  # the most requests there can be (one per chunk, or per prompt); None: no limit
    used_up: str = "documents_used_up"  # why the run stops at `limit`
    per_request: int | None = None  # items one request can give, when it is not batch_size


@dataclass
class Outcome:
    """What came back for request k: parsed items, or why there are none."""

    k: int
    parsed: ParsedReply = field(default_factory=ParsedReply)
    completions: list[Completion] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # ids of the seeds the prompt showed
    chunk: Chunk | None = None
    lang: str = "en"
    failure: RequestFailed | None = None
    repaired: bool = False
    first_error: str | None = None
    checked: Any = None  # ItemChecker.prepare's work on the items, done before the commit

    @property
    def finish_reason(self) -> str:
        return self.completions[-1].finish_reason if self.completions else ""

    def usage(self) -> dict[str, Any]:
        cost = [c.cost for c in self.completions if not c.cached]
        return {"calls": len(self.completions), "cached": sum(c.cached for c in self.completions),
                "prompt_tokens": sum(c.prompt_tokens for c in self.completions if not c.cached),
                "completion_tokens": sum(c.completion_tokens for c in self.completions if not c.cached),
                **({"cost": sum(cost)} if cost and None not in cost else {})}


def _shown(record: Record) -> Record:
    """A seed or earlier item as the prompt shows it; a seed's earlier turns (`history`) come first."""
    view = training_view(record)
    return {k: view[k] for k in ("history", "instruction", "input", "output") if k in view}


def _lesson(entry: FeedbackEntry) -> dict[str, Any]:
    """A feedback entry as templates see it: every field present (empty when the entry lacks it)."""
    def fields(record: Record | None) -> dict[str, Any] | None:
        return None if record is None else {k: record.get(k, "") for k in ("instruction", "input", "output")}
    return {"reason": entry.reason, "record": fields(entry.record), "better": fields(entry.better)}


def build_prompt(config: GenerateConfig, ctx: RoundContext, k: int) -> tuple[Messages, list[str], Chunk | None, str]:
    """(messages, ids of seeds shown, chunk, language) for request k of a round."""
    rng = random.Random(f"{config.seed}:{k}")
    common = {"feedback": [_lesson(e) for e in ctx.feedback], "application": config.application,
              "criteria": config.criteria}
    if ctx.chunks is not None:
        chunk = ctx.chunks[chunk_order(ctx.chunks, config.seed)[k % len(ctx.chunks)]]
        lang = ctx.lang if ctx.lang != "auto" else text_language(chunk.text)
        seeds = rng.sample(ctx.seeds, min(len(ctx.seeds), min(2, config.seeds_per_prompt)))
        messages = render(f"from_docs_{lang}", config.prompt, count=config.qa_per_chunk, chunk=chunk.text,
                          seeds=[_shown(s) for s in seeds], lang=lang, language=NAMES[lang], **common)
        return messages, [s["id"] for s in seeds], chunk, lang
    seeds = rng.sample(ctx.seeds, min(len(ctx.seeds), config.seeds_per_prompt))
    earlier = rng.sample(ctx.earlier, min(len(ctx.earlier), config.earlier_per_prompt))
    messages = render(f"generate_{ctx.lang}", config.prompt, count=config.batch_size, lang=ctx.lang,
                      language=NAMES[ctx.lang], seeds=[_shown(s) for s in seeds],
                      earlier=[_shown(e) for e in earlier], **common)
    return messages, [s["id"] for s in seeds], None, ctx.lang


def request_seed(config: GenerateConfig, k: int) -> int:
    """The `seed` sent with request k: distinct per request, stable across reruns."""
    return (config.seed * 1_000_003 + k) % 2**31


Builder = Callable[[GenerateConfig, RoundContext, int], tuple[Messages, list[str], Chunk | None, str]]
Parser = Callable[[str, str], ParsedReply]


async def ask(client: LLMClient, config: GenerateConfig, ctx: RoundContext, k: int,
              build: Builder = build_prompt, parse: Parser = parse_items) -> Outcome:
    """Send request k (and, when its reply is unusable, one repair request). Raises BudgetExhausted, LLMError."""
    messages, shown, chunk, lang = build(config, ctx, k)
    outcome = Outcome(k, shown=shown, chunk=chunk, lang=lang)
    options = {"json_mode": True, "seed": request_seed(config, k), "temperature": config.temperature,
               "max_tokens": config.max_tokens}
    try:
        completion = await client.complete(messages, **options)
    except RequestFailed as exc:
        outcome.failure = exc
        return outcome
    outcome.completions.append(completion)
    outcome.parsed = parse(completion.text, completion.finish_reason)
    if outcome.parsed.ok or not config.repair:
        return outcome
    outcome.first_error = outcome.parsed.error
    retry = repair_messages(messages, completion.text, outcome.parsed.error or "", lang)
    try:
        second = await client.complete(retry, **options)
    except RequestFailed:
        return outcome  # the first reply's problem stands
    # BudgetExhausted propagates: the request is not committed, so a resumed run (its first reply
    # cached) sends the repair and ends with exactly what an uninterrupted run would have
    outcome.completions.append(second)
    parsed = parse(second.text, second.finish_reason)
    if parsed.ok:
        outcome.parsed, outcome.repaired = parsed, True
    return outcome
