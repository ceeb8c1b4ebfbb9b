"""`review --auto`: an LLM judge scores each record against a rubric and proposes feedback entries."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datacraft.generate.config import ReviewConfig
from datacraft.generate.feedback import load_feedback
from datacraft.generate.parse import drop_trailing_commas, json_objects
from datacraft.generate.prompts import render
from datacraft.io.writers import check_not_input
from datacraft.llm import LLMClient, LLMConfig, RequestFailed, ResponseCache
from datacraft.records import Record, training_view
from datacraft.review.session import ReviewSession, load_for_review
from datacraft.textutil import language

_SCORE = re.compile(r"score\W{0,4}([1-5])\b", re.IGNORECASE)


@dataclass
class Verdict:
    """A judge's score (None when its reply could not be read) and its reason."""

    score: int | None
    reason: str


def parse_verdict(text: str | None) -> Verdict:
    """Score and reason from a judge reply; tolerant of fences, chatter and loose formats.

    >>> parse_verdict('Here you go: ```json\\n{"score": 2, "reason": "wrong answer",}\\n```')
    Verdict(score=2, reason='wrong answer')
    >>> parse_verdict("Score: 4/5. Clear and correct.").score
    4
    """
    text = text or ""
    for value, _, _ in json_objects(drop_trailing_commas(text)):
        if isinstance(value, dict) and "score" in value:
            try:
                score = round(float(value["score"]))
            except (TypeError, ValueError):
                break
            if 1 <= score <= 5:
                return Verdict(score, str(value.get("reason") or "").strip())
    match = _SCORE.search(text)
    if match:
        return Verdict(int(match.group(1)), text[match.end():].strip(" .:-/5\n")[:300])
    return Verdict(None, f"unreadable judge reply: {text[:200]!r}")


def judge_messages(record: Record, config: ReviewConfig, reasons: list[str]) -> list[dict[str, str]]:
    """The judge prompt for one record (language from the config, else the record's)."""
    view = training_view(record)
    lang = config.lang
    if lang == "auto":
        lang = "zh" if language(f"{view['instruction']} {view['output']}") == "zh" else "en"
    context = ((record.get("meta") or {}).get("chunk") or {}).get("text")
    entries = [{"reason": r} for r in reasons]
    return render(f"judge_{lang}", config.prompt, record=view, feedback=entries, context=context, lang=lang)


async def _judge(records: list[Record], client: LLMClient, config: ReviewConfig, reasons: list[str],
                 progress: Callable[[], None] | None) -> list[Verdict]:
    async def one(record: Record) -> Verdict:
        try:
            reply = await client.complete(judge_messages(record, config, reasons), json_mode=True,
                                          temperature=config.temperature, max_tokens=config.max_tokens)
            verdict = parse_verdict(reply.text)
        except RequestFailed as exc:
            verdict = Verdict(None, f"judge request failed: {exc.detail}")
        if progress is not None:
            progress()
        return verdict

    async with client:
        return await asyncio.gather(*(one(r) for r in records))


def auto_review(path: str, output: str, feedback: str, *, llm: LLMConfig, config: ReviewConfig | None = None,
                sample: int | None = None, seed: int = 0, rejects: str | None = None,
                progress: Callable[[], None] | None = None, read_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Judge every (or a sample of) record; low scores become proposed feedback entries. Returns counts."""
    config = config or ReviewConfig()
    check_not_input(output, [path, feedback])
    if rejects:
        check_not_input(rejects, [path, feedback, output])
    records, total = load_for_review(path, sample, seed, read_options)
    reasons = load_feedback(feedback, missing_ok=True).reasons()[:10]
    cache = ResponseCache(llm.cache or Path(f"{output}.run") / "cache.sqlite") if llm.use_cache else None
    try:
        client = LLMClient(llm, cache=cache)
        verdicts = asyncio.run(_judge(records, client, config, reasons, progress))
    finally:
        if cache is not None:
            cache.close()
    session = ReviewSession(feedback, reviewer="judge")
    scores: Counter[int] = Counter()
    for record, verdict in zip(records, verdicts, strict=True):
        if verdict.score is None:
            session.unscored(record, verdict.reason)
            continue
        scores[verdict.score] += 1
        if verdict.score >= config.min_score:
            session.accept(record, score=verdict.score, reason=verdict.reason)
        else:
            session.reject(record, verdict.reason or f"judge score {verdict.score}", score=verdict.score)
    kept = session.write(output, rejects)
    counts = session.counts()
    rejected_reasons = Counter(reason for verdict, _, reason in session.decisions if verdict == "rejected")
    return {"read": total, "reviewed": len(records), "kept": kept, "rejected": counts.get("rejected", 0),
            "unscored": counts.get("unscored", 0), "scores": {str(k): scores[k] for k in sorted(scores)},
            "reasons": dict(rejected_reasons.most_common()), "feedback": feedback, "usage": client.usage.to_dict()}
