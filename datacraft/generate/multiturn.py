"""Multi-turn generation: whole conversations written by the model, each follow-up tied to the turns before it.

A request shows a few seeds as conversations (a seed's `history` first, a single-turn seed as one
exchange) and asks for `batch_size` new conversations of T user turns, T drawn per request from
`--turns`. Each conversation becomes an Alpaca record with `history` (the last exchange is
`instruction`/`output`), so every stage, every export form and the clean filters (turn by turn, by
role) treat it like any other chat record. Novelty compares the whole conversation.

The follow-up check is lexical and cheap: a user turn after the first must share a content word
(CJK: a character pair without function characters) with the turns before it, be very short
("Why?", "继续"), or, when it is short enough not to carry its own context, use a word that points
back or asks to go on ("it", "that", "continue", "shorter", 它, 这个, 刚才, 继续). A follow-up that
is a fresh, unrelated question fails with `independent_follow_up`; one that repeats a word by
accident passes. bench/bench_followup.py measures it on real ShareGPT conversations.
"""

from __future__ import annotations

import random
import re
from typing import Any

from datacraft.clean import CleanConfig
from datacraft.generate.accept import ItemChecker
from datacraft.generate.config import GenerateConfig
from datacraft.generate.docs import Chunk
from datacraft.generate.lang import NAMES
from datacraft.generate.novelty import NoveltyChecker
from datacraft.generate.parse import ParsedReply, json_values, strip_wrappers
from datacraft.generate.prompts import Messages, render
from datacraft.generate.requests import RoundContext, _lesson
from datacraft.records import Record, conversation
from datacraft.textutil import CJK_CLASS

TEMPLATE = "multiturn"
INDEPENDENT_FOLLOW_UP = "independent_follow_up"
WRONG_TURN_COUNT = "wrong_turn_count"
BAD_CONVERSATION = "bad_conversation"

_WORD = re.compile(rf"[^\W\d_{CJK_CLASS}]{{4,}}", re.UNICODE)
_CJK_RUN = re.compile(rf"[{CJK_CLASS}]+")
# Words that point back at an earlier turn, or ask to go on with it: pronouns, "you said", requests to
# continue, shorten, explain or redo; in Chinese, demonstratives and the same requests.
_CUES = re.compile(
    r"\b(it|its|that|this|these|those|them|they|their|above|earlier|previous|again|also|instead|same|"
    r"another|more|further|else|continue|go on|keep going|thanks|thank you|why|how so|now|what about|"
    r"shorter|longer|simpler|rewrite|example|elaborate|expand|you said|you mentioned|"
    r"your (?:answer|example|list|code|suggestion|reply))\b"
    r"|它|这|那|上面|上述|刚才|刚刚|之前|前面|你说|你提到|再|还|另外|此外|其中|继续|接着|然后|谢谢|"
    r"现在|为什么|怎么做到|怎么样|简单|详细|具体|例子|举例|重写|改|缩短|翻译|总结|意思|不对|错|误解|另一|一下",
    re.IGNORECASE)
SHORT_FOLLOW_UP = 8  # characters: a turn this short ("1", "继续", "Why?") cannot stand on its own
CUE_MAX_CHARS = 80  # a longer turn carries its own context: its "this"/"这" points into itself
# Function characters: a character pair holding one ("的人", "你将", "如果") is shared by chance.
_CJK_FUNCTION = frozenset("的了是在和我你他她它们这那个一有不也就都而及与或将会能要把被让给从向并且很最更又还再只些么吗呢吧啊请如果")
_STOP = frozenset("""about after again also because been before being below between both could does doing during
each every from have having here into just like make many more most much must only other over same should some
such than that their them then there these they this those through under until very what when where which while
with would your yours please write explain describe give tell list provide""".split())
_CJK_STOP = frozenset(["什么", "怎么", "如何", "一个", "可以", "我们", "你们", "请问", "为什么", "的是", "是什"])
_USER_KEYS = ("user", "human", "question", "prompt", "用户", "问题")
_ASSISTANT_KEYS = ("assistant", "gpt", "answer", "response", "助手", "回答")


def content_units(text: str) -> set[str]:
    """Content words (4+ letters, no stopwords) and CJK character pairs (no function character) of a text.

    >>> sorted(content_units("Explain recursion to me, 请解释递归的定义"))
    ['recursion', '定义', '解释', '递归', '释递']
    """
    units = {w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOP}
    for run in _CJK_RUN.findall(text):
        units.update(p for p in (run[i:i + 2] for i in range(len(run) - 1))
                     if p not in _CJK_STOP and p[0] not in _CJK_FUNCTION and p[1] not in _CJK_FUNCTION)
    return units


def follow_up_problem(pairs: list[list[str]]) -> tuple[str, str] | None:
    """None when every user turn after the first refers back to the turns before it, else (reason, detail).

    >>> follow_up_problem([["What is a list in Python?", "An ordered sequence."], ["How do I sort it?", "sorted()."]])
    >>> follow_up_problem([["What is a list in Python?", "An ordered sequence."], ["Name a capital.", "Paris."]])
    ('independent_follow_up', 'user turn 2 shares no word with the turns before it and does not point back to them')
    """
    seen: set[str] = set()
    for number, (user, assistant) in enumerate(pairs, start=1):
        cue = len(user) <= CUE_MAX_CHARS and _CUES.search(user)
        if number > 1 and len(user.strip()) > SHORT_FOLLOW_UP and not (cue or content_units(user) & seen):
            return INDEPENDENT_FOLLOW_UP, (f"user turn {number} shares no word with the turns before it "
                                           "and does not point back to them")
        seen |= content_units(user) | content_units(assistant)
    return None


def _turn_text(turn: dict[str, Any], keys: tuple[str, ...]) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in turn.items()}
    return next((lowered[k] for k in keys if k in lowered), None)


def _pairs(turns: list[Any]) -> list[list[str]] | str:
    """[[user, assistant], ...] from {user, assistant} objects or alternating role/content messages; else why not."""
    if turns and all(isinstance(t, dict) and _turn_text(t, _USER_KEYS) is not None for t in turns):
        pairs = [[_turn_text(t, _USER_KEYS), _turn_text(t, _ASSISTANT_KEYS)] for t in turns]
    else:  # messages: {"role": "user", "content": ...} or ShareGPT's {"from", "value"}, alternating
        texts = []
        for turn in turns:
            if not isinstance(turn, dict):
                return f"a turn is a {type(turn).__name__}, not an object"
            role = str(turn.get("role", turn.get("from", ""))).lower()
            texts.append((role, turn.get("content", turn.get("value"))))
        roles = [r for r, _ in texts]
        if len(texts) % 2 or any(r not in _USER_KEYS for r in roles[::2]) or any(r not in _ASSISTANT_KEYS for r in roles[1::2]):
            return "turns must alternate user and assistant, starting with the user"
        pairs = [[texts[i][1], texts[i + 1][1]] for i in range(0, len(texts), 2)]
    for number, pair in enumerate(pairs, start=1):
        if not all(isinstance(s, str) for s in pair):
            return f"turn {number}: the user and assistant text must both be strings"
    return pairs


def to_conversation(item: Any) -> tuple[Record | None, str]:
    """An Alpaca record with `history` from one parsed conversation, or (None, why not).

    >>> to_conversation({"turns": [{"user": "Hi", "assistant": "Hello"}, {"user": "Why?", "assistant": "So."}]})[0]
    {'instruction': 'Why?', 'input': '', 'output': 'So.', 'history': [['Hi', 'Hello']]}
    """
    turns = item.get("turns", item.get("messages", item.get("conversations"))) if isinstance(item, dict) else item
    if not isinstance(turns, list) or not turns:
        return None, "a conversation needs a non-empty list of turns"
    pairs = _pairs(turns)
    if isinstance(pairs, str):
        return None, pairs
    record: Record = {"instruction": pairs[-1][0], "input": "", "output": pairs[-1][1]}
    if len(pairs) > 1:
        record["history"] = pairs[:-1]
    return record, ""


def _conversation_like(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("turns", value.get("messages")), list)) or (
        isinstance(value, list) and bool(value) and all(isinstance(t, dict) for t in value))


def parse_conversations(text: str | None, finish_reason: str = "stop") -> ParsedReply:
    """Conversations from a reply: {"conversations": [...]}, {"items": [...]}, or a bare list; never raises.

    >>> parse_conversations('```json\\n{"conversations": [{"turns": [{"user": "a", "assistant": "b"}]}]}\\n```').items
    [{'turns': [{'user': 'a', 'assistant': 'b'}]}]
    >>> parse_conversations("Sorry, I cannot.").reason
    'no_json'
    """
    if not text or not text.strip():
        return ParsedReply(reason="empty_reply", error="the reply was empty")
    values = [v for v, _, _ in json_values(strip_wrappers(text))]
    for value in values:
        found = None
        if isinstance(value, dict):
            found = next((value[k] for k in ("conversations", "items", "dialogues") if isinstance(value.get(k), list)), None)
            found = [value] if found is None and _conversation_like(value) else found
        elif isinstance(value, list) and any(_conversation_like(v) for v in value):
            found = value
        if found:
            return ParsedReply(items=found)
    if finish_reason == "length":
        return ParsedReply(reason="truncated_reply", error="the reply was cut off by the length limit")
    if values:
        return ParsedReply(reason="no_items", error='the JSON holds no list of conversations ({"conversations": [...]})')
    return ParsedReply(reason="no_json", error="no JSON in the reply")


def _shown_turns(record: Record) -> dict[str, Any]:
    """A seed or earlier record as the prompt shows it: its exchanges as {"user", "assistant"} turns."""
    chat = conversation(record)
    texts = [text for _, text in chat.turns]
    return {"turns": [{"user": texts[i], "assistant": texts[i + 1]} for i in range(0, len(texts) - 1, 2)]}


def turns_for(config: GenerateConfig, k: int) -> int:
    """User turns request k asks for: drawn from --turns, stable across reruns."""
    low, high = config.turns
    return random.Random(f"{config.seed}:{k}:turns").randint(low, high)


def build_multiturn_prompt(config: GenerateConfig, ctx: RoundContext, k: int) -> tuple[Messages, list[str], Chunk | None, str]:
    """(messages, ids of seeds shown, None, language) for request k of a multi-turn round."""
    rng = random.Random(f"{config.seed}:{k}")
    seeds = rng.sample(ctx.seeds, min(len(ctx.seeds), config.seeds_per_prompt))
    earlier = rng.sample(ctx.earlier, min(len(ctx.earlier), config.earlier_per_prompt))
    lang = "en" if ctx.lang == "auto" else ctx.lang
    messages = render(TEMPLATE, config.prompt, count=config.batch_size, turns=turns_for(config, k), lang=lang,
                      language=NAMES[lang], seeds=[_shown_turns(s) for s in seeds],
                      earlier=[_shown_turns(e) for e in earlier], feedback=[_lesson(e) for e in ctx.feedback],
                      application=config.application, criteria=config.criteria)
    return messages, [s["id"] for s in seeds], None, lang


def novelty_view(record: Record) -> Record:
    """The whole conversation as one task text (every user turn) and one answer (every assistant turn)."""
    chat = conversation(record)
    users = [text for role, text in chat.turns if role == "user"]
    answers = [text for role, text in chat.turns if role == "assistant"]
    return {"instruction": "\n".join(users), "input": "", "output": "\n".join(answers)}


class MultiTurnChecker(ItemChecker):
    """ItemChecker for conversations: turn count and follow-up check, clean filters per turn, novelty on the whole."""

    def __init__(self, clean: CleanConfig, novelty: NoveltyChecker, model: str, turns: tuple[int, int]):
        super().__init__(clean, novelty, model)
        self.turns = turns

    def _convert(self, item: Any) -> tuple[Record | None, dict[str, str]]:
        record, why = to_conversation(item)
        if record is None:
            return None, {"reason": BAD_CONVERSATION, "detail": why}
        count = len(record.get("history", [])) + 1
        low, high = self.turns
        if not low <= count <= high:
            return None, {"reason": WRONG_TURN_COUNT, "detail": f"{count} user turns, --turns asks for {low}-{high}"}
        problem = follow_up_problem([*record.get("history", []), [record["instruction"], record["output"]]])
        if problem is not None:
            return None, {"reason": problem[0], "detail": problem[1]}
        return record, {}

    def novelty_view(self, record: Record) -> Record:
        return novelty_view(record)

    def _meta(self, outcome: Any, round_number: int, feedback: str | None) -> dict[str, Any]:
        return {**super()._meta(outcome, round_number, feedback), "kind": "multi-turn"}
