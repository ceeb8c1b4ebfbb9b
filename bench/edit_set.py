"""A realistic near-duplicate edit set, derived deterministically from real-shaped records.

From a list of Alpaca-shaped records (instruction, input, output) it builds: the originals, planted
copies made with the edits people and pipelines really make, and true negatives: different records
that share a topic or a template. The ground truth is a group per original and its copies.

Copies (`kind`), English by words, Chinese by characters (and by sentence for both):
- sub2: two words (zh: two characters) of the answer substituted; sub5: 5% of its tokens
- insert: 3 words (zh: 4 characters) inserted; delete: 3 words (zh: 4 characters) deleted
  (sub2, insert and delete only on answers of 40+ tokens: on a 7-word answer they change its meaning)
- reorder: two sentences of the answer swapped (answers with at least two sentences)
- append: a sentence from another record appended to the answer
- prompt: the instruction reworded (two words substituted), the same answer
- style: case, spacing, full-width/ASCII punctuation and Markdown emphasis changed
- hant: a Chinese record converted to Traditional Chinese (OpenCC s2t)

Negatives (`neg_*`, each its own group):
- neg_answer: the same instruction and input as an original, another record's answer
- neg_math: a short math item whose operator and result differ ("x^2-1" vs "x^2+1")
- neg_template: toolformer-like records: one long shared tool instruction, different short inputs
  (AlpacaDataCleaned's toolformer set, where single-linkage chaining removed 850 of 1,514 records
  that had no surviving record at similarity >= 0.8)

    python bench/edit_set.py ../shared/data/llamafactory/alpaca_en_demo.json -o /tmp/edits.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import orjson

FIXED_COUNT = ("sub2", "insert", "delete")  # edits of a fixed number of tokens
MIN_TOKENS = 40  # ... made only on answers at least this long (words, or characters in Chinese)
KINDS = ("sub2", "sub5", "insert", "delete", "reorder", "append", "prompt", "style", "hant")
_SENT = re.compile(r"(?<=[.!?。！？])\s*")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ZH_FILL = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"

TOOLS = {  # hand-written, in the shape of Toolformer's prompts: a long fixed instruction per tool
    "Calculator": "Your task is to add calls to a Calculator API to a piece of text. The calls should help you "
                  "get information required to complete the text. You can call the API by writing "
                  "[Calculator(expression)] where expression is the expression to be computed. Here are some "
                  "examples of API calls. Input: The number in the next term is 18 + 12 x 3 = 54. Output: The "
                  "number in the next term is 18 + 12 x 3 = [Calculator(18 + 12 * 3)] 54. Input: The population "
                  "is 658,893 people. This is 11.4% of the national average of 5,763,868 people. Output: The "
                  "population is 658,893 people. This is 11.4% of the national average of "
                  "[Calculator(658,893 / 11.4%)] 5,763,868 people.",
    "QA": "Your task is to add calls to a Question Answering API to a piece of text. The questions should help "
          "you get information required to complete the text. You can call the API by writing [QA(question)] "
          "where question is the question you want to ask. Here are some examples of API calls. Input: Joe "
          "Biden was born in Scranton, Pennsylvania. Output: Joe Biden was born in [QA(Where was Joe Biden "
          "born?)] Scranton, [QA(In which state is Scranton?)] Pennsylvania. Input: Coca-Cola, or Coke, is a "
          "carbonated soft drink manufactured by the Coca-Cola Company. Output: Coca-Cola, or [QA(What other "
          "name is Coca-Cola known by?)] Coke, is a carbonated soft drink manufactured by [QA(Who manufactures "
          "Coca-Cola?)] the Coca-Cola Company.",
    "WikiSearch": "Your task is to complete a given piece of text. You can use a Wikipedia Search API to look up "
                  "information. You can do so by writing [WikiSearch(term)] where term is the search term you "
                  "want to look up. Here are some examples of API calls. Input: The colors on the flag of Ghana "
                  "have the following meanings: red is for the blood of martyrs, green for forests, and gold for "
                  "mineral wealth. Output: The colors on the flag of Ghana have the following meanings: red is "
                  "for [WikiSearch(Ghana flag red meaning)] the blood of martyrs, green for forests, and gold "
                  "for mineral wealth.",
}


def tokens_of(text: str) -> tuple[list[str], bool]:
    """Words, or characters for Chinese text (True), as the edits work on them."""
    zh = len(_CJK.findall(text)) * 2 >= max(len(text.replace(" ", "")), 1)
    return (list(text) if zh else text.split(" ")), zh


def join(tokens: list[str], zh: bool) -> str:
    return ("" if zh else " ").join(tokens)


class Editor:
    def __init__(self, records: list[dict], seed: int):
        self.rng = random.Random(seed)
        self.records = records
        words = [w for r in records for w in r["output"].split() if w.isalpha()]
        self.words = words or ["data"]
        self.chars = [c for r in records for c in r["output"] if _CJK.match(c)] or list(_ZH_FILL)

    def filler(self, zh: bool) -> str:
        return self.rng.choice(self.chars if zh else self.words)

    def substitute(self, text: str, k: int) -> str:
        toks, zh = tokens_of(text)
        slots = [i for i, t in enumerate(toks) if (_CJK.match(t) if zh else t.isalpha())] or list(range(len(toks)))
        for i in self.rng.sample(slots, min(k, len(slots))):
            new = self.filler(zh)
            toks[i] = new if new != toks[i] else new + ("们" if zh else "s")
        return join(toks, zh)

    def insert(self, text: str, k: int) -> str:
        toks, zh = tokens_of(text)
        for _ in range(k):
            toks.insert(self.rng.randrange(len(toks) + 1), self.filler(zh))
        return join(toks, zh)

    def delete(self, text: str, k: int) -> str:
        toks, zh = tokens_of(text)
        for _ in range(min(k, len(toks) - 1)):
            del toks[self.rng.randrange(len(toks))]
        return join(toks, zh)

    def reorder(self, text: str) -> str | None:
        sents = [s for s in _SENT.split(text) if s]
        if len(sents) < 2:
            return None
        i = self.rng.randrange(len(sents) - 1)
        sents[i], sents[i + 1] = sents[i + 1], sents[i]
        return join(sents, tokens_of(text)[1])

    def append(self, text: str) -> str:
        other = self.rng.choice(self.records)["output"]
        sent = next((s for s in _SENT.split(other) if s), other)[:200]
        return text + ("" if tokens_of(text)[1] else " ") + sent

    def style(self, record: dict) -> dict:
        out = dict(record)
        swap = str.maketrans({",": "，", ".": "。", "?": "？", "!": "！", ":": "：", "，": ",", "。": ".", "？": "?"})
        out["instruction"] = record["instruction"].upper().translate(swap) + "  "
        answer = record["output"].replace(" ", "  ").translate(swap)
        first, _, rest = answer.partition(" ")
        out["output"] = f"**{first}** {rest}" if rest else f"**{first}**"
        return out

    def copy(self, record: dict, kind: str) -> dict | None:
        out = dict(record)
        answer = record["output"]
        n = len(tokens_of(answer)[0])
        zh = tokens_of(answer)[1]
        if kind in FIXED_COUNT and n < MIN_TOKENS:
            return None  # two words of a seven-word answer are not a small edit: no copy
        if kind == "sub2":
            out["output"] = self.substitute(answer, 2)
        elif kind == "sub5":
            out["output"] = self.substitute(answer, max(1, round(0.05 * n)))
        elif kind == "insert":
            out["output"] = self.insert(answer, 4 if zh else 3)
        elif kind == "delete":
            out["output"] = self.delete(answer, 4 if zh else 3)
        elif kind == "reorder":
            out["output"] = self.reorder(answer)
        elif kind == "append":
            out["output"] = self.append(answer)
        elif kind == "prompt":
            out["instruction"] = self.substitute(record["instruction"], 2)
        elif kind == "style":
            out = self.style(record)
        elif kind == "hant":
            if not zh:
                return None
            from opencc import OpenCC
            conv = OpenCC("s2t")
            out = {k: conv.convert(v) if isinstance(v, str) else v for k, v in record.items()}
        return out if out.get("output") and out != record else None


def math_pairs(rng: random.Random, n: int) -> list[tuple[dict, dict]]:
    """Short math items that differ in an operator, and so in the answer."""
    pairs, squares = [], set()
    for a, b in rng.sample([(a, b) for a in range(2, 60) for b in range(2, 60) if a != b], n):
        first = {"instruction": f"Factor x^2-{a * a} over the integers.", "input": "",
                 "output": f"x^2-{a * a} = (x-{a})(x+{a})"}
        second = {"instruction": f"Factor x^2+{a * a} over the integers.", "input": "",
                  "output": f"x^2+{a * a} cannot be factored over the integers"}
        if a not in squares:  # each square once
            squares.add(a)
            pairs.append((first, second))
        pairs.append(({"instruction": f"Is {a}<{b}?", "input": "", "output": "yes" if a < b else "no"},
                      {"instruction": f"Is {a}>{b}?", "input": "", "output": "no" if a < b else "yes"}))
    return pairs


def template_records(records: list[dict], rng: random.Random, n: int) -> list[dict]:
    """Toolformer-like: a long fixed tool instruction, a short real sentence as input, the call added."""
    out = []
    sentences = [s for r in records for s in _SENT.split(r["output"]) if 40 <= len(s) <= 200]
    sentences = list(dict.fromkeys(sentences))  # each sentence once: equal inputs would be real duplicates
    for i, sentence in enumerate(rng.sample(sentences, min(n, len(sentences)))):
        tool = list(TOOLS)[i % len(TOOLS)]
        words = sentence.split(" ")
        cut = rng.randrange(1, max(len(words), 2))
        call = f"[{tool}({' '.join(words[cut:cut + 4])})]"
        out.append({"instruction": TOOLS[tool], "input": sentence,
                    "output": " ".join(words[:cut] + [call] + words[cut:])})
    return out


def distinct(records: list[dict], limit: float = 0.5) -> list[dict]:
    """Records with no earlier record at character-4-gram Jaccard >= limit (real sets hold duplicates
    of their own, which would count as wrong removals against the planted truth).

    Candidates come from datasketch's MinHashLSH (an implementation independent of datacraft's),
    and each is checked with the exact Jaccard similarity.
    """
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=limit * 0.8, num_perm=64)
    kept: dict[int, set[bytes]] = {}
    out = []
    for n, record in enumerate(records):
        text = re.sub(r"\s+", " ", " ".join(record.get(k) or "" for k in ("instruction", "input", "output")).lower())
        grams = {text[i:i + 4].encode() for i in range(max(len(text) - 3, 1))}
        sketch = MinHash(num_perm=64)
        sketch.update_batch(list(grams))
        if any(len(grams & kept[j]) / len(grams | kept[j]) >= limit for j in lsh.query(sketch)):
            continue
        lsh.insert(n, sketch)
        kept[n] = grams
        out.append(record)
    return out


def build(records: list[dict], seed: int = 0, copies: float = 1.0, templates: int = 0,
          math: int = 0, kinds_each: int = 1) -> tuple[list[dict], dict]:
    """The edit set (shuffled, ids `e<n>`) and its truth: groups of ids, the kind of each copy.

    Each original gets (with probability `copies`) `kinds_each` copies, of consecutive kinds.
    """
    rng = random.Random(seed)
    editor = Editor(records, seed + 1)
    usable = distinct([dict(r, input=r.get("input") or "") for r in records if r.get("output")])
    donors = usable[len(usable) * 9 // 10:]  # held out: their answers go to the neg_answer records only
    originals = usable[: len(usable) * 9 // 10]
    items: list[tuple[dict, int, str]] = []  # record, group, kind
    for g, record in enumerate(originals):
        items.append((record, g, "original"))
        if rng.random() >= copies:
            continue
        for j in range(kinds_each):
            kind = KINDS[(g + j) % len(KINDS)]
            made = editor.copy(record, kind)
            if made is None and kind == "hant" and kinds_each == 1:
                made, kind = editor.copy(record, "sub5"), "sub5"
            if made is not None:
                items.append((made, g, kind))
    g = len(originals)
    for record, donor in zip(originals, donors, strict=False):  # same prompt, another answer (fewer donors)
        items.append((dict(record, output=donor["output"]), g, "neg_answer"))
        g += 1
    for first, second in math_pairs(rng, math):
        items += [(first, g, "neg_math"), (second, g + 1, "neg_math")]
        g += 2
    for record in template_records(originals, rng, templates):
        items.append((record, g, "neg_template"))
        g += 1
    rng.shuffle(items)
    out, groups, kinds = [], {}, {}
    for n, (record, group, kind) in enumerate(items):
        rid = f"e{n}"
        out.append({"id": rid, **{k: record.get(k, "") for k in ("instruction", "input", "output")}})
        groups.setdefault(group, []).append(rid)
        kinds[rid] = kind
    return out, {"groups": [m for m in groups.values()], "kinds": kinds}


def load_alpaca(path: str | Path) -> list[dict]:
    """Alpaca records from .json / .jsonl; ShareGPT conversations become human turns -> answers."""
    text = Path(path).read_text(encoding="utf-8")
    rows = json.loads(text) if text.lstrip().startswith("[") else [orjson.loads(x) for x in text.splitlines() if x]
    out = []
    for row in rows:
        if "conversations" in row:
            turns = row["conversations"]
            human = [t["value"] for t in turns if t.get("from") in ("human", "user")]
            gpt = [t["value"] for t in turns if t.get("from") in ("gpt", "assistant")]
            row = {"instruction": "\n".join(human), "input": "", "output": "\n".join(gpt)}
        out.append({k: row.get(k) or "" for k in ("instruction", "input", "output")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("-o", "--output", required=True, help="edit set (JSONL); the truth goes to <output>.truth.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--templates", type=int, default=300, help="toolformer-like negatives")
    parser.add_argument("--math", type=int, default=50, help="math negative pairs")
    args = parser.parse_args()
    records = [r for p in args.inputs for r in load_alpaca(p)]
    items, truth = build(records, args.seed, templates=args.templates, math=args.math)
    Path(args.output).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in items))
    Path(args.output + ".truth.json").write_text(json.dumps(truth))
    print(f"{len(items)} records, {len(truth['groups'])} groups -> {args.output}")


if __name__ == "__main__":
    main()
