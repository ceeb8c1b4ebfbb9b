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
from datacraft.generate.parse import json_objects, strip_wrappers
from datacraft.generate.prompts import render
from datacraft.io.writers import check_not_input
from datacraft.llm import LLMClient, LLMConfig, LLMError, RequestFailed, ResponseCache
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
    text = strip_wrappers(text or "")  # a score inside opening reasoning is not the verdict
    for value, _, _ in json_objects(text):
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


def _lang_of(record: Record, config: ReviewConfig) -> str:
    """The judge prompt's language: the config's, else the record's."""
    if config.lang != "auto":
        return config.lang
    view = training_view(record)
    return "zh" if language(f"{view['instruction']} {view['output']}") == "zh" else "en"


def judge_messages(record: Record, config: ReviewConfig, reasons: list[str]) -> list[dict[str, str]]:
    """The judge prompt for one record (language from the config, else the record's)."""
    lang = _lang_of(record, config)
    context = ((record.get("meta") or {}).get("chunk") or {}).get("text")
    entries = [{"reason": r} for r in reasons]
    return render(f"judge_{lang}", config.prompt, record=training_view(record), feedback=entries, context=context,
                  lang=lang)


DEAD_AFTER = 5  # requests failing in a row, with none answered yet, that mean the endpoint is down


async def _judge(records: list[Record], client: LLMClient, config: ReviewConfig, reasons: list[str],
                 progress: Callable[[], None] | None) -> list[Verdict]:
    failed_in_a_row = answered = 0

    async def one(record: Record) -> Verdict:
        nonlocal failed_in_a_row, answered
        messages = judge_messages(record, config, reasons)
        options = {"json_mode": True, "temperature": config.temperature, "max_tokens": config.max_tokens}
        try:
            reply = await client.complete(messages, **options)
            verdict = parse_verdict(reply.text)
            if verdict.score is None:  # one repair round: show the model its reply and what was wrong
                lang = _lang_of(record, config)
                retry = [*messages, {"role": "assistant", "content": reply.text},
                         *render("judge_repair", error=verdict.reason, lang=lang)]
                second = await client.complete(retry, **options)
                repaired = parse_verdict(second.text)
                verdict = repaired if repaired.score is not None else Verdict(None, verdict.reason)
            answered += 1
            failed_in_a_row = 0
        except RequestFailed as exc:
            failed_in_a_row += 1
            if not answered and failed_in_a_row >= min(DEAD_AFTER, len(records)):
                raise LLMError(f"the judge endpoint {client.config.base_url} answered none of {failed_in_a_row} "
                               f"requests (last: {exc.detail}); nothing was written. Check --base-url and rerun") from None
            verdict = Verdict(None, f"judge request failed: {exc.detail}")
        if progress is not None:
            progress()
        return verdict

    async with client:
        return await asyncio.gather(*(one(r) for r in records))


def auto_review(path: str, output: str, feedback: str, *, llm: LLMConfig, config: ReviewConfig | None = None,
                sample: int | None = None, seed: int = 0, rejects: str | None = None,
                progress: Callable[[], None] | None = None, read_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Judge every (or a sample of) undecided record; low scores are rejected with the judge's reason.

    An unreadable verdict (after one repair request) leaves its record undecided, never rejected;
    an endpoint that answers nothing is an LLMError before anything is written. Replies are cached
    beside OUT, and records decided earlier are skipped, so a rerun costs nothing and adds nothing twice.
    """
    config = config or ReviewConfig()
    check_not_input(output, [path, feedback])
    if rejects:
        check_not_input(rejects, [path, feedback, output])
    records, everything = load_for_review(path, sample, seed, read_options)
    session = ReviewSession(feedback, reviewer="judge")
    todo = [record for record in records if session.decided(record) is None]
    # the judge's own earlier reasons are left out, so that a rerun sends the same prompts (cache hits)
    reasons = list(dict.fromkeys(e.reason for e in session.feedback().lessons() if e.source != "judge"))[:10]
    cache = ResponseCache(llm.cache or Path(f"{output}.run") / "cache.sqlite") if llm.use_cache else None
    client = LLMClient(llm, cache=cache)
    try:
        verdicts = asyncio.run(_judge(todo, client, config, reasons, progress)) if todo else []
    finally:
        if cache is not None:
            cache.close()
    scores: Counter[int] = Counter()
    undecided: list[str] = []
    rejected_reasons: Counter[str] = Counter()
    for record, verdict in zip(todo, verdicts, strict=True):
        if verdict.score is None:
            undecided.append(f"{record.get('id')}: {verdict.reason}")
            continue
        scores[verdict.score] += 1
        if verdict.score >= config.min_score:
            session.accept(record, score=verdict.score, reason=verdict.reason)
        else:
            reason = verdict.reason or f"judge score {verdict.score}"
            session.reject(record, reason, score=verdict.score)
            rejected_reasons[reason] += 1
    written = session.write(everything, output, rejects)
    counts = session.counts()
    return {"read": len(everything), "reviewed": len(todo), "skipped": len(records) - len(todo),
            "kept": written["written"], "rejected": counts.get("rejected", 0), "accepted": counts.get("accepted", 0),
            "undecided": len(undecided), "undecided_examples": undecided[:5], "unreviewed": written["unreviewed"],
            "scores": {str(k): scores[k] for k in sorted(scores)}, "reasons": dict(rejected_reasons.most_common()),
            "feedback": feedback, "usage": client.usage.to_dict()}
