"""Seeded synthetic Alpaca corpus (Chinese + English) with planted exact and near duplicates.

The ground truth is the list of planted groups: an original record plus its copies. Exact copies
differ only in case, whitespace and punctuation; near copies also get a few per cent of token
edits (substitutions, insertions, deletions of words, or of characters in Chinese text).

    python bench/synth.py 100000 -o /tmp/synth100k.jsonl      # also writes /tmp/synth100k.truth.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

# Frequent words first so the Zipf head looks like English.
_FUNCTION_WORDS = (
    "the of and to a in is that for it as with was on be by this are or an not from at which but have "
    "you can your all will one has more their if do about how what when use each there other these some "
    "into them time two may then so like make first also than most many such through should how who "
    "data model example list write explain describe give following create answer question steps "
    "python function number text word sentence user result value system process information"
).split()
_SYLLABLES = (
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge gi go ha he hi ho ka ke ki ko la le "
    "li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu "
    "va ve vi vo za ze zi zo ar er ir or ur an en in on un al el il ol ex ent ing ion ter con pro tion"
).split()
# Frequent Chinese characters first (Zipf head); the tail is drawn from the CJK block.
_ZH_HEAD = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
_ZH_PUNCT = ("，", "。", "、", "；", "：", "？")
_EN_PUNCT = (",", ".", ";", ":", "?")


@dataclass
class Corpus:
    records: list[dict]
    groups: list[list[int]]  # planted groups: indices of records that are copies of one another
    kinds: list[str]         # per group: "exact" (only exact copies) or "near" (at least one near copy)


def _zipf(n: int, s: float = 1.05, shift: float = 2.7) -> np.ndarray:
    p = 1.0 / (np.arange(n) + shift) ** s
    return p / p.sum()


def _vocabularies(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    words = list(_FUNCTION_WORDS)
    seen = set(words)
    syl = np.array(_SYLLABLES)
    while len(words) < 30000:
        k = int(rng.integers(1, 5))
        w = "".join(syl[rng.integers(0, len(syl), k)])
        if w not in seen:
            seen.add(w)
            words.append(w)
    head = list(dict.fromkeys(_ZH_HEAD))
    tail = [chr(c) for c in rng.permutation(np.arange(0x4E00, 0x9FA5)) if chr(c) not in set(head)][:3500]
    return words, head + tail


class _Gen:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.words, self.chars = _vocabularies(self.rng)
        self.pw, self.pc = _zipf(len(self.words)), _zipf(len(self.chars), 0.95, 10)
        self.cw, self.cc = np.cumsum(self.pw), np.cumsum(self.pc)

    def en_tokens(self, n: int) -> list[str]:
        ids = np.minimum(np.searchsorted(self.cw, self.rng.random(n)), len(self.words) - 1)
        toks = [self.words[i] for i in ids]
        for p in np.flatnonzero(self.rng.random(n) < 0.09):
            toks[p] += _EN_PUNCT[int(self.rng.integers(0, 2 if p % 3 else len(_EN_PUNCT)))]
        if toks:
            toks[0] = toks[0].capitalize()
        return toks

    def zh_tokens(self, n: int) -> list[str]:
        ids = np.minimum(np.searchsorted(self.cc, self.rng.random(n)), len(self.chars) - 1)
        toks = [self.chars[i] for i in ids]
        r = self.rng.random(n)
        for p in np.flatnonzero(r < 0.08):
            toks[p] = _ZH_PUNCT[int(self.rng.integers(0, 2 if p % 3 else len(_ZH_PUNCT)))]
        for p in np.flatnonzero(r > 0.992):  # a few Latin words inside Chinese text, as in real data
            toks[p] = f" {self.words[int(self.rng.integers(50, 2000))]} "
        return toks

    def record(self, zh: bool) -> dict:
        rng = self.rng
        if zh:
            parts = (int(rng.integers(15, 61)), int(rng.integers(10, 81)) if rng.random() < 0.4 else 0,
                     int(rng.integers(80, 501)))
            return {f: self.zh_tokens(k) for f, k in zip(("instruction", "input", "output"), parts, strict=True)}
        parts = (int(rng.integers(10, 41)), int(rng.integers(5, 41)) if rng.random() < 0.4 else 0,
                 int(rng.integers(50, 301)))
        return {f: self.en_tokens(k) for f, k in zip(("instruction", "input", "output"), parts, strict=True)}

    def near_edit(self, tokens: dict, zh: bool, rate: float) -> dict:
        out = {f: list(t) for f, t in tokens.items()}
        total = sum(len(t) for t in out.values())
        for _ in range(max(1, round(rate * total))):
            f = "output" if self.rng.random() < 0.8 or not out["instruction"] else "instruction"
            toks = out[f]
            if not toks:
                continue
            p = int(self.rng.integers(0, len(toks)))
            new = self.zh_tokens(1)[0] if zh else self.words[int(self.rng.integers(0, len(self.words)))]
            op = self.rng.random()
            if op < 0.5:
                toks[p] = new
            elif op < 0.75:
                toks.insert(p, new)
            elif len(toks) > 1:
                del toks[p]
        return out

    def render(self, tokens: dict, zh: bool, noise: bool) -> dict:
        """Join tokens into text; with `noise`, vary case, whitespace and punctuation."""
        out = {}
        for f, toks in tokens.items():
            text = "".join(toks) if zh else " ".join(toks)
            if noise and text:
                r = self.rng.random()
                if zh:
                    text = text.replace("，", ", ") if r < 0.3 else text.replace("。", ". ") if r < 0.6 else text + "！"
                else:
                    text = text.upper() if r < 0.15 else text.replace(", ", " , ") if r < 0.45 else text.replace(" ", "  ", 3) + "!"
                if self.rng.random() < 0.3:
                    text = f"  {text}\n"
            out[f] = text
        return out


def generate(n: int, seed: int = 0, zh_fraction: float = 0.5, exact_rate: float = 0.03,
             near_rate: float = 0.05, edit_rate: tuple[float, float] = (0.005, 0.03)) -> Corpus:
    """`n` records: originals plus planted copies (exact_rate + near_rate of n), shuffled."""
    g = _Gen(seed)
    rng = g.rng
    n_copies = int(n * (exact_rate + near_rate))
    n_orig = n - n_copies
    is_zh = rng.random(n_orig) < zh_fraction
    originals = [g.record(bool(z)) for z in is_zh]
    records = [g.render(t, bool(z), noise=False) for t, z in zip(originals, is_zh, strict=True)]
    groups: dict[int, list[int]] = {}
    kinds: dict[int, str] = {}
    bases = rng.choice(n_orig, size=n_copies, replace=True)  # a base drawn twice gets two copies
    for i, base in enumerate(bases):
        base = int(base)
        zh = bool(is_zh[base])
        near = i >= int(n * exact_rate)
        toks = g.near_edit(originals[base], zh, float(rng.uniform(*edit_rate))) if near else originals[base]
        groups.setdefault(base, [base]).append(len(records))
        kinds[base] = "near" if near or kinds.get(base) == "near" else "exact"
        records.append(g.render(toks, zh, noise=True))
    order = rng.permutation(len(records))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    shuffled = [records[i] for i in order]
    for k, rec in enumerate(shuffled):
        rec["id"] = f"s{k}"
    group_list = [sorted(int(position[i]) for i in members) for members in groups.values()]
    return Corpus(shuffled, group_list, [kinds[b] for b in groups])


def write_corpus(path: str | Path, n: int, seed: int = 0, **kwargs) -> Path:
    """Write the corpus as JSONL and its planted groups as `<stem>.truth.json`; return the truth path."""
    corpus = generate(n, seed, **kwargs)
    path = Path(path)
    with open(path, "wb") as fh:
        for rec in corpus.records:
            fh.write(orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE))
    truth = path.with_suffix(".truth.json")
    truth.write_text(json.dumps({"n": n, "seed": seed, "groups": corpus.groups, "kinds": corpus.kinds}))
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(write_corpus(args.output, args.n, args.seed))


if __name__ == "__main__":
    main()
