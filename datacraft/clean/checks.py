"""The quality checks, applied turn by turn by role: each returns None (keep) or (reason, detail).

A record of any form is read once into its role-tagged texts (`datacraft.records.texts`). Prompt
checks look at user turns, answer checks (empty, length, repetition, refusal) at assistant turns
and the chosen answer; a tool call's JSON arguments, an observation's payload and `tools` are
never judged as prose, and a preference record's `rejected` answer is bad on purpose, so only its
presence is checked. Fields are named by their Alpaca view (instruction, output, history, chosen).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rapidfuzz import fuzz

from datacraft.clean.blockstats import TextStats
from datacraft.clean.config import FilterConfig
from datacraft.clean.filters import (
    _ANY_UNIT,
    _char_run,
    _few_repeats,
    _few_symbols,
    _squash,
    duplicate_line_ratio,
    may_hold_code,
    ngram_repetition,
    prose,
    prose_once,
    refusal_match,
    symbol_ratio,
    user_pattern,
)
from datacraft.records import (
    ASSISTANT,
    EMPTY_FIELD,
    MISSING_FIELD,
    USER,
    Drop,
    Record,
    Text,
    conversation,
    texts,
)
from datacraft.textutil import language, text_length

Verdict = tuple[str, str] | None
Check = Callable[[Record, list[Text]], Verdict]
PROMPT_FIELDS = ("instruction", "history")  # user turns the prompt rules judge (`input` is data)
ANSWER_FIELDS = ("output", "history", "chosen")  # assistant turns the answer rules judge


def _first(items: list[Text], field: str) -> str | None:
    for _, f, text in items:  # a plain loop: next() over a generator costs twice as much
        if f == field:
            return text
    return None


def _prompts(items: list[Text]) -> list[tuple[str, str]]:
    return [(f, t) for role, f, t in items if role == USER and f in PROMPT_FIELDS]


def _answers(items: list[Text]) -> list[tuple[str, str]]:
    return [(f, t) for role, f, t in items if role == ASSISTANT and f in ANSWER_FIELDS]


def answer_prose(stats: TextStats, text: str) -> str:
    """The text whose block counts stand for `text`'s prose: its prose if it may hold code, else itself."""
    return stats.prose.get(text, text)


def load_block(stats: TextStats, records: Iterable[Record]) -> None:
    """Count the texts the checks look up, for a block of records: each prompt and answer and its prose."""
    found: list[str] = []
    prose_of: dict[str, str] = {}
    held: dict[int, tuple[Record, list[Text]]] = {}
    for record in records:
        items = list(texts(record))
        held[id(record)] = record, items
        for role, field, text in items:
            if (role == USER and field in PROMPT_FIELDS) or (role == ASSISTANT and field in ANSWER_FIELDS):
                found.append(text)
                if may_hold_code(text):
                    prose_of[text] = prose(text)
                    found.append(prose_of[text])
    stats.load(found)
    stats.prose, stats.items = prose_of, held


def _lengths_differ(stats: TextStats, instruction: str, output: str, threshold: float) -> bool:
    """True when the squashed lengths alone keep the echo check from firing (as it computes them)."""
    i, o = stats.index(instruction), stats.index(output)
    if i is None or o is None:
        return False
    a, b = stats.squashed_length(i), stats.squashed_length(o)
    if a is None or b is None:
        return False
    return a == 0 or b == 0 or 2 * min(a, b) < threshold * (a + b)


def check_fields(cfg: FilterConfig) -> Check:
    """The record's structure reads (one reason per defect), and the required view fields are non-empty."""

    def check(record: Record, items: list[Text]) -> Verdict:
        if not _reads_cleanly(record):
            try:
                conversation(record)
            except Drop as drop:
                return drop.reason, drop.detail
        preference = "chosen" in record or "rejected" in record
        for name in cfg.required:
            for field in (PREFERENCE if preference and name == "output" else (name,)):
                value = _first(items, field)
                if value is None:
                    return MISSING_FIELD, field
                if not value.strip():
                    return EMPTY_FIELD, f"{field} is blank"
        for role, field, text in items:  # an earlier turn left blank breaks the conversation too
            if field == "history" and not text.strip():
                name = "instruction" if role == USER else "output"
                return EMPTY_FIELD, f"history: a blank {role} turn"
        return None

    return check


PREFERENCE = ("chosen", "rejected")
_NOT_PLAIN = frozenset(("conversations", "messages", "history", "tools", "kto_tag", "chosen", "rejected"))


def _reads_cleanly(record: Record) -> bool:
    """True when `conversation(record)` surely raises no Drop: an Alpaca record of strings (or None)
    without history, tools, tags or preference answers, the only fields it could find broken."""
    get = record.get
    return record.keys().isdisjoint(_NOT_PLAIN) and all(
        isinstance(value, str) or value is None
        for value in (get("instruction"), get("input"), get("output"), get("system")))


def check_lengths(cfg: FilterConfig) -> Check:
    """Prompt and answer lengths in units (CJK characters + words); total size in characters.

    Every answer is held to both bounds, every prompt to the maximum, the opening prompt to the minimum.
    """
    bounds = [(USER, PROMPT_FIELDS, "instruction", cfg.min_instruction_length, cfg.max_instruction_length),
              (ASSISTANT, ANSWER_FIELDS, "output", cfg.min_output_length, cfg.max_output_length)]
    bounds = [b for b in bounds if (b[3], b[4]) != (None, None)]

    def check(record: Record, items: list[Text]) -> Verdict:
        for want_role, fields, name, low, high in bounds:
            opening = True
            for role, field, text in items:
                if role != want_role or field not in fields:
                    continue
                # A unit takes at least one character, and _ANY_UNIT finds one exactly when there
                # is one: the usual bounds (at least 1, at most thousands) need no counting.
                if (high is None or len(text) <= high) and (low is None or low <= 0 or (
                        low == 1 and _ANY_UNIT.search(text)) or not (opening or want_role == ASSISTANT)):
                    opening = False
                    continue
                units = text_length(text)
                # Later user turns of a chat may be a bare "?" or "5": the minimum is for the opening prompt.
                if low is not None and units < low and (opening or want_role == ASSISTANT):
                    return f"{name}_too_short", f"{field}: {units} units < {low}"
                if high is not None and units > high:
                    return f"{name}_too_long", f"{field}: {units} units > {high}"
                opening = False
        if cfg.max_total_chars is not None:
            total = sum(len(text) for _, _, text in items)
            if total > cfg.max_total_chars:
                return "too_long", f"{total} characters > {cfg.max_total_chars}"
        return None

    return check


def check_repeats_instruction(cfg: FilterConfig, stats: TextStats | None = None) -> Check:
    """The answer only echoes the prompt (same text up to case and punctuation, or nearly)."""
    threshold = cfg.max_instruction_similarity

    def check(record: Record, items: list[Text]) -> Verdict:
        raw_instruction = _first(items, "instruction") or ""
        raw_output = _first(items, "output") or _first(items, "chosen") or ""
        if stats is not None and _lengths_differ(stats, raw_instruction, raw_output, threshold):
            return None
        instruction = _squash(raw_instruction)
        output = _squash(raw_output)
        if not instruction or not output:
            return None
        if instruction == output:
            return "output_repeats_instruction", "output equals the instruction"
        shorter, total = min(len(instruction), len(output)), len(instruction) + len(output)
        if 2 * shorter < threshold * total:
            return None  # the lengths alone keep the similarity below the threshold
        score = fuzz.ratio(instruction, output) / 100
        if score >= threshold:
            return "output_repeats_instruction", f"similarity {score:.2f} >= {threshold}"
        return None

    return check


def check_repetition(cfg: FilterConfig, stats: TextStats | None = None) -> Check:
    """A degenerate answer: one character repeated, looping phrases, or the same lines again and again."""

    def check(record: Record, items: list[Text]) -> Verdict:
        for field, answer in _answers(items):
            i = stats.index(answer_prose(stats, answer)) if stats is not None else None
            text = prose_once(answer) if i is None else None  # with block counts, only when needed
            where = "" if field == "output" else f"{field}: "
            if cfg.max_char_run is not None and (i is None or stats.has_run[i]):
                text = text if text is not None else prose_once(answer)
                if match := _char_run(cfg.max_char_run).search(text):
                    return "repetitive_output", f"{where}{match.group(1)!r} repeated {len(match.group(0))} times"
            limit = cfg.max_ngram_repetition
            if limit is not None and not (stats.few_repeats(i, limit) if i is not None else False):
                if i is not None and (score := stats.repetition(i)) is not None:  # exact: no set to build
                    return "repetitive_output", f"{where}repeated 10-grams {score:.2f} > {limit}"
                text = text if text is not None else prose_once(answer)
                if not _few_repeats(text, limit) and (score := ngram_repetition(text)) > limit:
                    return "repetitive_output", f"{where}repeated 10-grams {score:.2f} > {limit}"
            # Under four lines the ratio is 0, which no limit of 0 or more rejects.
            if cfg.max_duplicate_lines is not None and (i is None or stats.newlines[i] >= 3
                                                        or cfg.max_duplicate_lines < 0):
                text = text if text is not None else prose_once(answer)
                score = duplicate_line_ratio(text)
                if score > cfg.max_duplicate_lines:
                    return "repetitive_output", f"{where}duplicate lines {score:.2f} > {cfg.max_duplicate_lines}"
        return None

    return check


def check_symbols(cfg: FilterConfig, stats: TextStats | None = None) -> Check:
    """Too many junk symbols in a prompt or an answer's prose (tool-call JSON is not prose)."""
    limit = cfg.max_symbol_ratio

    def check(record: Record, items: list[Text]) -> Verdict:
        for field, text in _prompts(items) + _answers(items):
            if stats is not None and (i := stats.index(answer_prose(stats, text))) is not None \
                    and stats.few_symbols(i, limit):
                continue
            text = prose_once(text)
            if _few_symbols(text, limit):  # a bound from two C-level counts settles most texts
                continue
            score = symbol_ratio(text)
            if score > limit:
                return "too_many_symbols", f"{field}: symbol ratio {score:.2f} > {limit}"
        return None

    return check


def check_refusal(stats: TextStats | None = None) -> Check:
    """An answer refuses, or speaks as "an AI language model" / "作为一个AI语言模型".

    Not judged: records with `tools` (declining what no tool can do is the lesson tool-call data
    teaches) and preference answers (an honest "as an AI, I cannot" is often the chosen one).
    """

    def check(record: Record, items: list[Text]) -> Verdict:
        if record.get("tools"):
            return None
        for field, answer in _answers(items):
            if field == "chosen":
                continue
            # Stripping and the apostrophe make and break no match of the hint: the block's flag holds.
            i = stats.index(answer) if stats is not None else None
            text = answer.strip().replace("\u2019", "'")
            if match := refusal_match(text, None if i is None else stats.hint[i]):
                return "refusal", match.group(0)[:80] if field == "output" else f"{field}: {match.group(0)[:80]}"
        return None

    return check


def check_blacklist(cfg: FilterConfig) -> Check:
    """Any blacklisted keyword in any text of the record (case-insensitive)."""
    keywords = [(k, k.casefold()) for k in cfg.blacklist if k]

    def check(record: Record, items: list[Text]) -> Verdict:
        text = "\n".join(t for _, _, t in items).casefold()
        for keyword, folded in keywords:
            if folded in text:
                return "blacklisted_keyword", keyword
        return None

    return check


def check_patterns(cfg: FilterConfig) -> Check:
    """Any blacklist regex matching a text of the record; a pattern past `pattern_timeout` rejects, never hangs.

    User patterns can backtrack exponentially (`(a|aa)+$`), so they run under the `regex`
    module's per-call timeout: the record goes to the rejects file as `pattern_timeout`.
    """
    patterns = [(p, user_pattern(p)) for p in cfg.blacklist_patterns]
    timeout = cfg.pattern_timeout

    def check(record: Record, items: list[Text]) -> Verdict:
        text = "\n".join(t for _, _, t in items)
        for source, pattern in patterns:
            try:
                match = pattern.search(text, timeout=timeout)
            except TimeoutError:
                return "pattern_timeout", f"{source!r} ran past {timeout} s"
            if match:
                return "blacklisted_pattern", f"{source!r} matched {match.group(0)[:60]!r}"
        return None

    return check


def check_language(cfg: FilterConfig) -> Check:
    """The language of the prompt and answer (instruction + input + output) is one of `languages`."""
    allowed = set(cfg.languages or ())

    def check(record: Record, items: list[Text]) -> Verdict:
        text = "\n".join(t for _, f, t in items if f in ("instruction", "input", "output", "chosen") and t)
        tag = language(text)
        return None if tag in allowed else ("wrong_language", f"{tag} not in {sorted(allowed)}")

    return check


def build_checks(cfg: FilterConfig, stats: TextStats | None = None) -> list[Check]:
    """The enabled checks, cheapest and most basic first; `stats`: a block's counts, when there are."""
    checks = [check_fields(cfg), check_lengths(cfg)]
    if cfg.max_instruction_similarity is not None:
        checks.append(check_repeats_instruction(cfg, stats))
    if (cfg.max_char_run, cfg.max_ngram_repetition, cfg.max_duplicate_lines) != (None, None, None):
        checks.append(check_repetition(cfg, stats))
    if cfg.max_symbol_ratio is not None:
        checks.append(check_symbols(cfg, stats))
    if cfg.refusal:
        checks.append(check_refusal(stats))
    if cfg.blacklist:
        checks.append(check_blacklist(cfg))
    if cfg.blacklist_patterns:
        checks.append(check_patterns(cfg))
    if cfg.languages:
        checks.append(check_language(cfg))
    return checks


def record_filter(cfg: FilterConfig | None = None,
                  stats: TextStats | None = None) -> Callable[[Record], tuple[bool, str, str]]:
    """One predicate running every enabled check: (True, "", "") or (False, reason, detail).

    With `stats` (see `block_texts`), the checks read a block's precomputed counts where they hold
    the record's texts, and compute exactly as without them for any text they do not.
    """
    checks = build_checks(cfg or FilterConfig(), stats)

    def keep(record: Record) -> tuple[bool, str, str]:
        items = stats.texts_of(record) if stats is not None else list(texts(record))
        for check in checks:
            verdict = check(record, items)
            if verdict is not None:
                return False, verdict[0], verdict[1]
        return True, "", ""

    return keep
