"""The LLM judge for borderline candidates, in the style of LMSYS's LLM decontaminator.

One request per (eval item, training text) pair, prompts/decontam_judge.j2, JSON in the reply.
The parser tolerates code fences, chatter and trailing commas; what it cannot read is a verdict of
None (the record is kept and counted as unreadable), never an exception.
"""

from __future__ import annotations

import hashlib
import json

from datacraft.generate.parse import drop_trailing_commas, json_objects
from datacraft.generate.prompts import Messages, render
from datacraft.llm import LLMClient, RequestFailed

_YES = {"true", "yes", "same", "1"}
_NO = {"false", "no", "different", "0"}
MAX_CHARS = 4000  # of training text per request: the judge needs the question, not a whole document


def judge_messages(eval_text: str, train_text: str, template: str | None = None) -> Messages:
    """The judge prompt for one pair."""
    return render("decontam_judge", template, eval_text=eval_text, train_text=train_text[:MAX_CHARS])


def parse_verdict(text: str | None) -> tuple[bool | None, str]:
    """(same?, reason) from a judge reply; (None, why) when it cannot be read.

    >>> parse_verdict('Sure! ```json\\n{"same": true, "reason": "reworded",}\\n```')
    (True, 'reworded')
    >>> parse_verdict('{"same": "no", "reason": "other question"}')
    (False, 'other question')
    >>> parse_verdict("I think so")
    (None, 'no JSON verdict in the reply')
    """
    if not text or not text.strip():
        return None, "empty reply"
    for value, _, _ in json_objects(drop_trailing_commas(text)):
        if not isinstance(value, dict) or "same" not in value:
            continue
        same, reason = value["same"], str(value.get("reason", ""))
        if isinstance(same, bool):
            return same, reason
        if str(same).strip().lower() in _YES:
            return True, reason
        if str(same).strip().lower() in _NO:
            return False, reason
        return None, f"unreadable verdict {same!r}"
    return None, "no JSON verdict in the reply"


async def judge(client: LLMClient, eval_text: str, train_text: str, template: str | None = None) -> tuple[bool | None, str]:
    """Ask the judge about one pair; a failed request is an unreadable verdict."""
    messages = judge_messages(eval_text, train_text, template)
    seed = int.from_bytes(hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode()).digest()[:4], "big") % 2**31
    try:
        reply = await client.complete(messages, json_mode=True, temperature=0.0, max_tokens=256, seed=seed)
    except RequestFailed as exc:
        return None, f"judge request failed: {exc.detail}"
    return parse_verdict(reply.text)
