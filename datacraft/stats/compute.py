"""`compute_stats`: what a dataset holds — sizes, lengths, languages, duplicates, instruction openings."""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from datacraft.dedupe import exact_key, normalize
from datacraft.export.split import Clusterer
from datacraft.records import (
    Conversation,
    Record,
    alpaca_view,
    conversation,
    conversation_text,
    record_format,
)
from datacraft.runner import read_inputs
from datacraft.stages import Ledger, Reject
from datacraft.stats.conversations import TURN_FIELDS, ConversationStats, turn_texts
from datacraft.textutil import language

FIELDS = ("instruction", "input", "output", "system", "history", "total")
# Fields most records leave empty: their lengths are summarised over the records that have them.
SPARSE = ("input", "system", "history")
NEAR_LIMIT = 100_000  # near-duplicate clustering holds every text in memory; above this it is skipped
TOP_OPENINGS = 20
HISTOGRAM_BINS = 30
_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
_NOT_WORD = re.compile(r"[\W_]+")
_NUMERALS = "一二两三四五六七八九十几"
Tokenizer = Callable[[str], Sequence[Any]]


def opening(text: str) -> str:
    """The first two words of an instruction, or its first three characters when it is CJK.

    A CJK opening that ends in a numeral takes the measure word too (创建一个, not 创建一).

    >>> opening("Give three tips for staying healthy."), opening("请解释一下 LoRA 的原理"), opening("列出三个例子")
    ('give three', '请解释', '列出三个')
    """
    if language(text) in ("zh", "ja", "ko"):
        chars = _NOT_WORD.sub("", text)
        return chars[:4] if chars[2:3] and chars[2] in _NUMERALS else chars[:3]
    return " ".join(_WORD.findall(text.lower())[:2])


def summarize(values: Sequence[int]) -> dict[str, Any]:
    """min/p50/p90/p99/max (nearest-rank percentiles: always a value that occurs) and the mean.

    >>> summarize([1, 2, 3, 4, 10])
    {'count': 5, 'min': 1, 'p50': 3, 'p90': 10, 'p99': 10, 'max': 10, 'mean': 4.0}
    """
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return {"count": 0}

    def rank(p: float) -> int:
        return ordered[max(0, math.ceil(p / 100 * n) - 1)]

    return {"count": n, "min": ordered[0], "p50": rank(50), "p90": rank(90), "p99": rank(99),
            "max": ordered[-1], "mean": round(sum(ordered) / n, 1)}


def histogram(values: Sequence[int], upper: int, bins: int = HISTOGRAM_BINS) -> dict[str, Any]:
    """Counts in equal bins from 0 to `upper` (the p99); longer values are counted in `above`."""
    import numpy as np

    data = np.asarray(values)
    upper = max(int(upper), 1)
    counts, edges = np.histogram(data[data <= upper], bins=min(bins, upper), range=(0, upper))
    return {"edges": [round(float(e), 2) for e in edges], "counts": counts.tolist(), "above": int((data > upper).sum())}


def load_tokenizer(spec: str | Tokenizer | None) -> tuple[Tokenizer | None, str | None]:
    """A text -> tokens function for `spec` (a callable, or a transformers name/path loaded offline), or a note."""
    if spec is None or callable(spec):
        return spec, None
    try:
        from transformers import AutoTokenizer
    except ImportError:
        return None, "token lengths skipped: transformers is not installed (pip install transformers)"
    try:
        tok = AutoTokenizer.from_pretrained(spec, local_files_only=True)
    except Exception as exc:  # transformers raises OSError, ValueError, ... for a name it cannot load
        return None, (f"token lengths skipped: cannot load tokenizer {spec!r} offline ({type(exc).__name__}); "
                      "pass a local tokenizer folder or a name already in the Hugging Face cache")
    return (lambda text: tok.encode(text, add_special_tokens=False, verbose=False)), None


def _texts(record: Record) -> tuple[Conversation, dict[str, str]]:
    """The canonical conversation and each length field's text (the Alpaca view: prompt, answer, history).

    Raises Drop for a record of no known shape. A preference record's answer is its chosen one.
    """
    chat = conversation(record)
    fields = alpaca_view(record)
    return chat, {**fields, "total": conversation_text(record, system=True)}


def compute_stats(inputs: list[str], *, tokenizer: str | Tokenizer | None = None, read_options: dict | None = None,
                  near_duplicates: bool = True, cluster: Clusterer | None = None) -> dict[str, Any]:
    """Counts, length distributions, language mix, duplicate rates and top openings of the inputs."""
    tokenize, note = load_tokenizer(tokenizer)
    notes = [note] if note else []
    ledger = Ledger()
    chars: dict[str, array] = {f: array("q") for f in (*FIELDS, *TURN_FIELDS)}
    tokens: dict[str, array] = {f: array("q") for f in (*FIELDS, *TURN_FIELDS)}
    chats = ConversationStats()
    formats, languages, present, openings, hashes = Counter(), Counter(), Counter(), Counter(), Counter()
    texts: list[str] = []
    bad = 0
    for record in read_inputs(inputs, ledger, read_options, assign_ids=False, desc="stats"):
        try:
            chat, fields = _texts(record)
        except Reject:
            bad += 1  # not a record of any known shape: counted, not measured
            continue
        formats[record_format(record)] += 1
        for key in ("input", "system", "history", "id", "meta"):
            present[key] += bool(fields.get(key) if key in fields else record.get(key))
        for field in FIELDS:
            if field in SPARSE and not fields[field]:
                continue
            chars[field].append(len(fields[field]))
            if tokenize is not None:
                tokens[field].append(len(tokenize(fields[field])))
        chats.add(chat)
        for field, turn in turn_texts(chat):  # every turn, not only the last exchange
            chars[field].append(len(turn))
            if tokenize is not None:
                tokens[field].append(len(tokenize(turn)))
        text = conversation_text(record)
        languages[language(text)] += 1
        openings[opening(fields["instruction"])] += 1
        hashes[exact_key(normalize(text))] += 1
        if near_duplicates and len(texts) <= NEAR_LIMIT:
            texts.append(text)
    n = sum(formats.values())
    openings.pop("", None)

    def lengths(table: dict[str, array]) -> dict[str, Any]:
        return {f: summarize(v) for f, v in table.items() if v}

    def histograms(table: dict[str, array], summary: dict[str, Any]) -> dict[str, Any]:
        return {f: histogram(v, summary[f]["p99"]) for f, v in table.items() if v}

    stats: dict[str, Any] = {
        "files": list(inputs), "records": n, "unreadable": ledger.rejected, "unrecognised": bad,
        "formats": dict(formats.most_common()), "languages": dict(languages.most_common()),
        "fields_present": {k: present[k] for k in ("input", "system", "history", "id", "meta")},
        "lengths": {"chars": lengths(chars)}, "tokenizer": None,
        "duplicates": _duplicates(n, hashes, texts if near_duplicates else None, cluster, notes),
        "openings": [{"opening": o, "count": c, "share": round(c / n, 4)} for o, c in openings.most_common(TOP_OPENINGS)],
        "conversations": _conversations(chats), "notes": notes,
    }
    stats["histograms"] = {"chars": histograms(chars, stats["lengths"]["chars"])}
    if tokenize is not None:
        stats["tokenizer"] = tokenizer if isinstance(tokenizer, str) else getattr(tokenizer, "__name__", "custom")
        stats["lengths"]["tokens"] = lengths(tokens)
        stats["histograms"]["tokens"] = histograms(tokens, stats["lengths"]["tokens"])
    return stats


def _conversations(chats: ConversationStats) -> dict[str, Any]:
    out = chats.result()
    out["turns_summary"] = summarize([t for t, c in out["turns"] for _ in range(c)])
    return out


def _duplicates(n: int, hashes: Counter, texts: list[str] | None, cluster: Clusterer | None,
                notes: list[str]) -> dict[str, Any]:
    """Records that repeat an earlier one: exactly (after normalisation) and nearly (MinHash clusters)."""
    exact = n - len(hashes)
    out: dict[str, Any] = {"exact": exact, "exact_rate": round(exact / n, 4) if n else 0.0,
                           "near": None, "near_rate": None}
    if texts is None:
        return out
    if len(texts) > NEAR_LIMIT:
        notes.append(f"near-duplicates skipped: more than {NEAR_LIMIT} records (use `datacraft dedupe`)")
        return out
    if cluster is None:
        from datacraft.dedupe import near_duplicate_clusters as cluster
    near = n - len(set(cluster(texts))) if texts else 0
    out.update({"near": near, "near_rate": round(near / n, 4) if n else 0.0})
    return out
