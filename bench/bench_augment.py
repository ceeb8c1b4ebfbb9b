"""Augment benchmarks: Chinese synonym replacement speed, and back-translation concurrency vs generate.

1. Synonym replacement on Chinese records, CPU seconds of this process (one core), best of
   --rounds: the default (curated pairs, with term protection and per-record consistency) and the
   thesaurus source, against two baselines in the same run that use the thesaurus's Cilin
   candidates and rules:
   - "posseg": jieba.posseg.lcut per field (the usual way to get part-of-speech tags for skipping
     names), then a dict look-up per word;
   - "lcut": jieba.lcut (HMM on, jieba's default) plus jieba's tag table.
   Also the whole `augment_file` (read, replace, guard, write), so the guard's cost is visible.
   Corpus: seeded synthetic records made of jieba dictionary words with alpaca_zh_demo's field
   lengths (instruction ~18, output ~195 characters; a third factual), and --real files.
2. Back-translation against the local OpenAI-compatible server with a fixed latency, measured as
   bench_generate.py measures `generate` (its server process and LLM settings are reused): wall time
   against the ideal requests x latency / concurrency. `generate` (1 item per request) runs against
   the same server settings in the same run, and the ratio of the two is printed.

    .venv/bin/python bench/bench_augment.py --real ../shared/data/llamafactory/alpaca_zh_demo.json
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import jieba  # noqa: E402
import jieba.posseg  # noqa: E402
from fakellm import Reply  # noqa: E402

from bench.bench_generate import Server, engine_run  # noqa: E402
from bench.bench_generate import llm as bench_llm  # noqa: E402
from datacraft.augment import AugmentConfig, augment_file  # noqa: E402
from datacraft.augment.config import SynonymConfig  # noqa: E402
from datacraft.augment.runner import rng_for  # noqa: E402
from datacraft.augment.synonyms import SynonymReplacer  # noqa: E402
from datacraft.augment.synonyms_zh import default_chinese_synonyms  # noqa: E402
from datacraft.augment.tasks import fields_to_rewrite  # noqa: E402

_STARTS = ["写一篇关于", "解释", "描述", "给出三个", "总结", "为什么", "如何", "列出", "比较", "分析"]


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next((int(ln.split()[1]) // 1024 for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0)
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
            f"jieba {jieba.__version__}, load average {os.getloadavg()[0]:.2f} at start")


def synthetic_zh(n: int, seed: int = 0) -> list[dict]:
    """Records of real jieba words (frequency-weighted) with alpaca_zh_demo's field lengths."""
    rng = random.Random(seed)
    jieba.setLogLevel(60)
    jieba.initialize()
    words = [w for w, f in jieba.dt.FREQ.items() if f >= 50 and all("\u4e00" <= c <= "\u9fff" for c in w)]
    weights = [jieba.dt.FREQ[w] for w in words]  # unigram frequencies, as in running text

    def text(chars: int) -> str:
        out, size = [], 0
        while size < chars:
            clause = "".join(rng.choices(words, weights, k=rng.randint(3, 8)))
            out.append(clause + rng.choice("，，，。"))
            size += len(clause) + 1
        return "".join(out)[:-1] + "。"

    records = []
    for i in range(n):
        start = rng.choice(_STARTS)
        instruction = start + text(rng.randint(8, 24))
        output = text(max(20, int(rng.gauss(195, 90))))
        records.append({"id": f"s{i}", "instruction": instruction, "input": "", "output": output})
    return records


def baselines(records: list[dict]) -> dict:
    """The straightforward implementations, with datacraft's own candidate table and sampling."""
    chinese = default_chinese_synonyms()
    candidates = chinese.candidates
    tags = jieba.posseg.dt.word_tag_tab

    def replace(tokens: list[str], rng: random.Random) -> str:
        eligible = [i for i, t in enumerate(tokens) if t in candidates]
        if eligible:
            words = sum(1 for t in tokens if t.strip() and (t.isalnum() or len(t) > 1))
            for i in rng.sample(eligible, min(len(eligible), max(1, round(0.15 * words)))):
                tokens[i] = rng.choice(candidates[tokens[i]])
        return "".join(tokens)

    def posseg(record: dict) -> None:
        rng = rng_for(0, "synonym", record["id"])
        for name in fields_to_rewrite(record, ["instruction", "input", "output"]):
            replace([p.word for p in jieba.posseg.lcut(record[name])], rng)

    def lcut(record: dict) -> None:
        rng = rng_for(0, "synonym", record["id"])
        for name in fields_to_rewrite(record, ["instruction", "input", "output"]):
            tokens = jieba.lcut(record[name])
            [tags.get(t) for t in tokens]  # the tag look-up a real implementation needs
            replace(tokens, rng)

    return {"posseg": posseg, "lcut": lcut}


def cpu_rate(fn, records: list[dict], rounds: int, reset=lambda: None) -> float:
    """Records per CPU second, best of `rounds`; `reset` runs before each round (untimed)."""
    best = math.inf
    for _ in range(rounds):
        reset()
        gc.collect()
        gc.disable()
        start = time.process_time()
        for record in records:
            fn(record)
        best = min(best, time.process_time() - start)
        gc.enable()
    return len(records) / best


def synonym_part(corpora: dict[str, list[dict]], rounds: int) -> None:
    chinese = default_chinese_synonyms()
    thesaurus = SynonymReplacer(SynonymConfig(languages=["zh"], source="thesaurus"), chinese=chinese)
    curated = SynonymReplacer(SynonymConfig(languages=["zh"]))
    segmenter = curated.curated.chinese.segmenter
    print("\nSynonym replacement, Chinese, records per CPU second (one core), best of", rounds)
    print("| corpus | records | curated (default) | thesaurus | posseg baseline | curated / posseg | lcut baseline | "
          "curated / lcut | augment_file end to end |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, records in corpora.items():
        def ours(record: dict) -> None:
            curated(record, rng_for(0, "synonym", record["id"]))

        def old(record: dict) -> None:
            thesaurus(record, rng_for(0, "synonym", record["id"]))

        # Each round starts with an empty block cache: a second pass over the same records would hit it every time.
        fast = cpu_rate(ours, records, rounds, reset=segmenter.cache.clear)
        whole = cpu_rate(old, records, rounds, reset=chinese.segmenter.cache.clear)
        base = baselines(records)
        posseg = cpu_rate(base["posseg"], records, max(1, rounds // 2))
        lcut = cpu_rate(base["lcut"], records, max(1, rounds // 2))
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "in.jsonl"
            source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
            assert SynonymReplacer(SynonymConfig()).curated.chinese  # the shared resources load outside the timing, as above
            start = time.process_time()
            augment_file([str(source)], str(Path(tmp) / "out.jsonl"), config=AugmentConfig(synonym={"languages": ["zh"]}))
            end_to_end = len(records) / (time.process_time() - start)
        print(f"| {name} | {len(records)} | {fast:,.0f} | {whole:,.0f} | {posseg:,.0f} | **{fast / posseg:.1f}x** | "
              f"{lcut:,.0f} | **{fast / lcut:.1f}x** | {end_to_end:,.0f} |")


def translation(body: dict, index: int) -> Reply:
    """The server's reply to a translation request: each text back, slightly changed."""
    content = body["messages"][-1]["content"]
    texts = json.loads(content.strip().splitlines()[-1])
    return Reply(json.dumps({"translations": [f"{t} ok" for t in texts]}, ensure_ascii=False))


def backtranslate_run(url: str, requests: int, concurrency: int) -> dict:
    """`requests` translation requests through augment_file: 2 fields x 2 hops per record, batch size 1."""
    rng = random.Random(0)

    def word() -> str:  # numbers would be masked, and equal masked texts are asked only once
        return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3))

    records = [{"id": f"r{i}", "instruction": f"Write a short note about the {word()} {word()}, please.", "input": "",
                "output": f"This short note describes the {word()} {word()} in a few plain words for the reader."}
               for i in range(requests // 4)]
    config = AugmentConfig(methods=["backtranslate"], protect_factual=False, backtranslate={"batch_size": 1},
                           guard={"max_similarity": None})
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        started, cpu = time.perf_counter(), time.process_time()
        result = augment_file([str(source)], f"{tmp}/bt.jsonl", config=config, llm=bench_llm(url, concurrency))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result["usage"]["requests"] == requests, result["usage"]
    assert result["methods"]["backtranslate"]["produced"] == len(records), result["methods"]
    return {"wall": wall, "cpu": cpu}


def concurrency_part(latency: float, concurrency: int, requests: int) -> None:
    ideal = requests * latency / concurrency
    print(f"\nBack-translation vs generate, {requests} requests at concurrency {concurrency} against the local "
          f"server (its own process) with {latency * 1000:.0f} ms latency; ideal {ideal:.2f} s")
    print("| run | wall s | x ideal | CPU ms / request |")
    print("|---|---|---|---|")
    with Server(delay=latency, items_per_reply=1) as server:
        generate = engine_run(server.url, requests, concurrency, batch=1)
    with Server(delay=latency, handler=translation) as server:
        back = backtranslate_run(server.url, requests, concurrency)
    for name, run in (("generate, 1 item/request", generate), ("augment --method backtranslate, batch 1", back)):
        print(f"| {name} | {run['wall']:.2f} | {run['wall'] / ideal:.3f} | {run['cpu'] / requests * 1000:.2f} |")
    print(f"\nconcurrency efficiency (ideal / wall): generate {ideal / generate['wall']:.1%}, "
          f"backtranslate {ideal / back['wall']:.1%}; ratio backtranslate / generate "
          f"{generate['wall'] / back['wall']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5000, help="synthetic Chinese records")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--real", action="append", default=[], help="an Alpaca JSON/JSONL file of Chinese records")
    parser.add_argument("--latency", type=float, default=0.2, help="server latency per request, seconds")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000, help="requests per run (a multiple of 4)")
    parser.add_argument("--synonyms-only", action="store_true", help="skip the back-translation concurrency part")
    args = parser.parse_args()
    print("Machine:", machine())
    corpora = {"synthetic": synthetic_zh(args.n)}
    for path in args.real:
        text = Path(path).read_text(encoding="utf-8")
        rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        corpora[Path(path).name] = [{"id": f"{Path(path).stem}:{i}", **r} for i, r in enumerate(rows)]
    synonym_part(corpora, args.rounds)
    if not args.synonyms_only:
        concurrency_part(args.latency, args.concurrency, args.requests)


if __name__ == "__main__":
    main()
