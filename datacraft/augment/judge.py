"""The LLM check of candidate copies: same meaning? natural? A "no" sends the copy to the rejects file.

Every copy that passed the guard, whatever the method, is shown to the model next to its source
(prompts/augment_judge.j2), one short request each, through the run's LLM client, so verdicts are
cached (a rerun pays nothing for copies already judged), retried, and counted in the usage line.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from datacraft.augment.config import JudgeConfig
from datacraft.generate.parse import drop_trailing_commas, json_objects
from datacraft.generate.prompts import render
from datacraft.llm import BudgetExhausted, LLMClient, RequestFailed
from datacraft.records import Record

_SHOWN = ("system", "instruction", "input", "output")
_TURNS = frozenset(("instruction", "input", "output", "history", "chosen", "rejected"))  # a view's slot names
_YES = re.compile(r"^\W*(?:yes|是|对|通过|accept)", re.IGNORECASE)
_NO = re.compile(r"^\W*(?:no|否|不|reject)", re.IGNORECASE)


@dataclass
class Judgement:
    """The judge's verdict on one copy: ok is None when its reply could not be read."""

    ok: bool | None
    reason: str


def _truth(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if _YES.match(value) or value.strip().lower() == "true":
            return True
        if _NO.match(value) or value.strip().lower() == "false":
            return False
    return None


def parse_judgement(text: str | None) -> Judgement:
    """The verdict in a judge reply; tolerant of fences, chatter, trailing commas and a bare yes/no.

    >>> parse_judgement('```json\\n{"same_meaning": true, "natural": false, "reason": "stutter",}\\n```')
    Judgement(ok=False, reason='not natural: stutter')
    >>> parse_judgement("Yes. Same meaning and fluent.").ok
    True
    >>> parse_judgement("").ok is None
    True
    """
    text = text or ""
    for value, _, _ in json_objects(drop_trailing_commas(text)):
        if not isinstance(value, dict) or not ({"same_meaning", "natural"} & set(value)):
            continue
        same, natural = _truth(value.get("same_meaning", True)), _truth(value.get("natural", True))
        reason = str(value.get("reason") or "").strip()[:300]
        if same is None or natural is None:
            break
        if not same:
            return Judgement(False, f"meaning changed: {reason}".rstrip(": "))
        if not natural:
            return Judgement(False, f"not natural: {reason}".rstrip(": "))
        return Judgement(True, reason)
    stripped = text.strip()
    if stripped and _YES.match(stripped):
        return Judgement(True, stripped[:300])
    if stripped and _NO.match(stripped):
        return Judgement(False, stripped[:300])
    return Judgement(None, f"unreadable judge reply: {stripped[:200]!r}")


def _shown(record: Record) -> dict[str, str]:
    """The texts the judge reads: the Alpaca fields, then a chat's other turns (a TextView's slots)."""
    texts = getattr(record, "record", record)  # a TextView: the system prompt comes from its record
    shown = {k: texts[k] for k in _SHOWN if isinstance(texts.get(k), str) and texts[k]}
    shown.update({k: v for k, v in record.items() if k not in shown and isinstance(v, str) and v
                  and k.split(".")[0] in _TURNS})
    return shown


class CopyJudge:
    """`await judge.check(pairs)` -> one Judgement per (source, copy)."""

    def __init__(self, client: LLMClient, config: JudgeConfig | None = None):
        self.client = client
        self.config = config or JudgeConfig()

    def messages(self, source: Record, copy: Record) -> list[dict[str, str]]:
        """The judge prompt for one copy: the shown fields of both records."""
        original, candidate = _shown(source), _shown(copy)
        return render("augment_judge", self.config.prompt, original=original, copy=candidate)

    async def one(self, source: Record, copy: Record) -> Judgement:
        """The verdict on one copy; a failed request is a Judgement with ok None."""
        try:
            reply = await self.client.complete(self.messages(source, copy), json_mode=True,
                                               temperature=self.config.temperature, max_tokens=self.config.max_tokens)
        except RequestFailed as exc:
            return Judgement(None, f"judge request failed: {exc.detail}")
        except BudgetExhausted as exc:
            return Judgement(None, f"budget exhausted: --{exc.args[0].replace('_', '-')} reached, not judged")
        return parse_judgement(reply.text)

    async def check(self, pairs: list[tuple[Record, Record]]) -> list[Judgement]:
        """Verdicts for many copies at once (the client keeps the endpoint's concurrency)."""
        return list(await asyncio.gather(*(self.one(source, copy) for source, copy in pairs)))
