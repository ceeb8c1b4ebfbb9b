"""Preference generation, UltraFeedback/distilabel style: candidate answers to each prompt, ranked by a judge.

Request k takes the k-th seed's prompt (with its system prompt and earlier turns), asks each of
`models` (default: the judge's own model) for a candidate answer at each of `temperatures`, and
shows them to the judge (the `--model` LLM, a rubric, candidates in a per-prompt shuffled order
against position bias). The best-rated answer
becomes `chosen`, the worst `rejected`; every score and the judge's rationale go to `meta.preference`.
A tie or an unreadable verdict is asked again (`judge_retries`), then the prompt is rejected with a
reason, like a failed candidate request or identical candidates: nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import random
import string
from dataclasses import dataclass, field
from typing import Any

from datacraft.clean import CleanConfig, Normalizer, record_filter
from datacraft.generate.config import GenerateConfig
from datacraft.generate.parse import ParsedReply, json_objects, strip_wrappers
from datacraft.generate.prompts import Messages, render
from datacraft.generate.requests import Outcome, RoundContext, request_seed
from datacraft.llm import Completion, LLMClient, RequestFailed
from datacraft.records import ASSISTANT, SYSTEM, Record, conversation
from datacraft.validate import validate_record

JUDGE_TEMPLATE = "preference_judge"
RETRY_TEMPLATE = "preference_retry"
JUDGE_TIE = "judge_tie"
JUDGE_UNPARSEABLE = "judge_unparseable"
EMPTY_CANDIDATE = "empty_candidate"
IDENTICAL_CANDIDATES = "identical_candidates"
JUDGE_MAX_TOKENS = 1024  # per-candidate scores and a few sentences of rationale


def prompt_messages(seed: Record) -> Messages:
    """The chat a candidate answers: the seed's system prompt, earlier turns and prompt, without its answer.

    >>> prompt_messages({"instruction": "Add", "input": "1, 2", "output": "3", "system": "Be brief."})
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Add\\n1, 2'}]
    """
    chat = conversation(seed)
    turns = chat.turns[:-1] if chat.turns and chat.turns[-1][0] == ASSISTANT and chat.chosen is None else chat.turns
    messages = [{"role": SYSTEM, "content": chat.system}] if chat.system else []
    return messages + [{"role": role, "content": text} for role, text in turns]


@dataclass
class Verdict:
    """The judge's scores per candidate (in candidate order) and its rationale."""

    scores: list[float]
    rationale: str
    reasons: list[str] = field(default_factory=list)  # the judge's sentence on each candidate, when it gave one


def parse_verdict(text: str | None, labels: list[str]) -> Verdict | str:
    """The judge's verdict, or why it cannot be used (the text of an unparseable or incomplete reply).

    >>> parse_verdict('```json\\n{"ratings": [{"candidate": "A", "score": 8, "rationale": "ok"},'
    ...               ' {"candidate": "B", "score": "3"}], "rationale": "A is right"}\\n```', ["A", "B"])
    Verdict(scores=[8.0, 3.0], rationale='A is right', reasons=['ok', ''])
    >>> parse_verdict('{"scores": {"A": 5}}', ["A", "B"])
    'no score for candidate B'
    """
    if not text or not text.strip():
        return "the verdict was empty"
    for value, _, _ in reversed(list(json_objects(strip_wrappers(text)))):
        ratings = value.get("ratings", value.get("scores"))
        found: dict[str, tuple[Any, str]] = {}
        if isinstance(ratings, list):
            for rating in ratings:
                if isinstance(rating, dict):
                    label = str(rating.get("candidate", rating.get("label", ""))).strip().upper()
                    found[label] = (rating.get("score", rating.get("rating")), str(rating.get("rationale", "")))
        elif isinstance(ratings, dict):
            for label, rating in ratings.items():
                score = rating.get("score") if isinstance(rating, dict) else rating
                why = str(rating.get("rationale", "")) if isinstance(rating, dict) else ""
                found[str(label).strip().upper()] = (score, why)
        else:
            continue
        scores = []
        for label in labels:
            try:
                scores.append(float(found[label][0]))
            except KeyError:
                return f"no score for candidate {label}"
            except (TypeError, ValueError):
                return f"candidate {label}: the score {found[label][0]!r} is not a number"
        reasons = "; ".join(f"{label}: {found[label][1]}" for label in labels if found[label][1])
        rationale = str(value.get("rationale") or value.get("reason") or reasons).strip()
        return Verdict(scores, rationale, [found[label][1] for label in labels])
    return 'no {"ratings": [...]} object in the verdict'


def _pick(scores: list[float]) -> tuple[int, int] | None:
    """(chosen, rejected) candidate indexes: the best and the worst score; None on a tie."""
    best, worst = max(scores), min(scores)
    if best == worst:
        return None
    return scores.index(best), len(scores) - 1 - scores[::-1].index(worst)


async def ask_preference(client: LLMClient, config: GenerateConfig, ctx: RoundContext, k: int,
                         writers: dict[str, LLMClient] | None = None) -> Outcome:
    """Candidates for prompt k, then the judge (retried on a tie or an unreadable verdict). Raises BudgetExhausted.

    `client` is the judge (and writes the candidates of its own model); `writers` the clients of other --models.
    """
    seed = ctx.seeds[k]
    outcome = Outcome(k, shown=[seed["id"]], lang=ctx.lang)
    messages = prompt_messages(seed)
    base = request_seed(config, k)
    specs = config.candidates(client.model)
    replies = await asyncio.gather(*(
        (writers or {}).get(model, client).complete(messages, seed=base + number, temperature=t, max_tokens=config.max_tokens)
        for number, (model, t) in enumerate(specs)), return_exceptions=True)
    for reply in replies:  # BudgetExhausted (nothing committed; a rerun resumes from the cache) and bugs first
        if isinstance(reply, BaseException) and not isinstance(reply, RequestFailed):
            raise reply
    candidates = [r for r in replies if isinstance(r, Completion)]
    outcome.completions.extend(candidates)  # what was paid for counts, even when another candidate failed
    failed = next((r for r in replies if isinstance(r, RequestFailed)), None)
    if failed is not None:
        outcome.failure = failed
        return outcome
    answers = [c.text.strip() for c in candidates]
    if not all(answers):
        model, t = specs[answers.index("")]
        return _fail(outcome, EMPTY_CANDIDATE, f"the candidate of {model} at temperature {t} was empty")
    if len(set(answers)) < len(answers):
        return _fail(outcome, IDENTICAL_CANDIDATES, "two candidates are the same text: nothing to prefer")
    order = random.Random(f"{config.seed}:{k}:order").sample(range(len(answers)), len(answers))
    labels = list(string.ascii_uppercase[:len(answers)])
    judge = render(JUDGE_TEMPLATE, prompt=_prompt_text(messages), candidates=[
        {"label": label, "text": answers[i]} for label, i in zip(labels, order, strict=True)])
    problems = []
    for attempt in range(config.judge_retries + 1):
        try:
            reply = await client.complete(judge, json_mode=True, seed=base, temperature=0.0, max_tokens=JUDGE_MAX_TOKENS)
        except RequestFailed as exc:
            outcome.failure = exc
            return outcome
        outcome.completions.append(reply)
        verdict = parse_verdict(reply.text, labels)
        picked = _pick(verdict.scores) if isinstance(verdict, Verdict) else None
        if isinstance(verdict, Verdict) and picked is not None:
            return _pair(outcome, specs, seed, answers, order, labels, verdict, picked, attempt + 1)
        problem = verdict if isinstance(verdict, str) else f"every candidate scored {verdict.scores[0]:g}"
        problems.append(problem)
        judge = [*judge, {"role": ASSISTANT, "content": reply.text},
                 *render(RETRY_TEMPLATE, problem=problem, tie=isinstance(verdict, Verdict))]
    return _fail(outcome, JUDGE_TIE if isinstance(verdict, Verdict) else JUDGE_UNPARSEABLE,
                 f"{len(problems)} verdicts, none usable: {'; '.join(problems)}")


def _prompt_text(messages: Messages) -> str:
    """The prompt as the judge reads it: earlier turns labelled, the last user turn last."""
    if len(messages) == 1:
        return messages[0]["content"]
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)


def _fail(outcome: Outcome, reason: str, detail: str) -> Outcome:
    outcome.parsed = ParsedReply(reason=reason, error=detail)
    return outcome


def _pair(outcome: Outcome, specs: list[tuple[str, float]], seed: Record, answers: list[str], order: list[int],
          labels: list[str], verdict: Verdict, picked: tuple[int, int], attempts: int) -> Outcome:
    """The preference record of prompt k: the seed's prompt fields with `chosen` and `rejected`."""
    scores = {order[position]: score for position, score in enumerate(verdict.scores)}  # candidate -> score
    reasons = {order[position]: why for position, why in enumerate(verdict.reasons)}
    chosen, rejected = order[picked[0]], order[picked[1]]
    record = {k: v for k, v in seed.items() if k in ("system", "history", "instruction", "input")}
    record.update({"chosen": answers[chosen], "rejected": answers[rejected]})
    outcome.parsed = ParsedReply(items=[{"record": record, "preference": {
        "rationale": verdict.rationale, "judge_attempts": attempts,
        "candidates": [{"model": model, "temperature": t, "score": scores[i], "label": labels[order.index(i)],
                        **({"rationale": why} if (why := reasons[i]) else {})} for i, (model, t) in enumerate(specs)],
        "chosen": {"model": specs[chosen][0], "temperature": specs[chosen][1], "score": scores[chosen]},
        "rejected": {"model": specs[rejected][0], "temperature": specs[rejected][1], "score": scores[rejected]}}}])
    return outcome


class PreferenceChecker:
    """`split(outcome, round, feedback)` for preference requests: one pair, or the prompt rejected with a reason."""

    def __init__(self, clean: CleanConfig, model: str, seeds: list[Record]):
        self.normalize = Normalizer(clean.normalize)
        self.keep = record_filter(clean.filters)
        self.model = model
        self.seeds = seeds

    def novelty_view(self, record: Record) -> Record:
        return record

    def split(self, outcome: Outcome, round_number: int, feedback: str | None) -> tuple[list[Record], list[dict[str, Any]]]:
        seed = self.seeds[outcome.k]
        source = f"request:{outcome.k}"
        if outcome.failure is not None:
            return [], [{"reason": outcome.failure.reason, "detail": outcome.failure.detail, "source": source, "record": seed}]
        if not outcome.parsed.ok:
            entry = {"reason": outcome.parsed.reason or JUDGE_UNPARSEABLE, "detail": outcome.parsed.error or "",
                     "source": source, "record": seed}
            if outcome.completions:
                entry["raw"] = outcome.completions[-1].text[:4000]
            return [], [entry]
        item = outcome.parsed.items[0]
        record = self.normalize(item["record"])
        issues = validate_record(record, "auto")
        ok, reason, detail = (False, issues[0].kind, f"{issues[0].field}: {issues[0].message}") if issues else self.keep(record)
        if not ok:
            return [], [{"reason": reason, "detail": detail, "source": source, "record": record}]
        record["id"] = f"pref-{outcome.k}"
        record["meta"] = {"source": "generate", "kind": "preference", "model": self.model, "round": round_number,
                          "request": outcome.k, "feedback_version": feedback, "lang": outcome.lang,
                          "seeds": outcome.shown, "preference": {"judge": self.model, **item["preference"]}}
        return [record], []
