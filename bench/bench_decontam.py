"""Decontamination benchmark: what each detector catches, per kind of planted eval item, and its CPU cost.

1. Fixture eval items (tests/fixtures/decontam) planted verbatim, lightly and heavily edited,
   reworded and translated zh<->en, against the local OpenAI-compatible test server
   (tests/decontam/decontam_server.py): detections per kind for the baseline `dedupe --against`
   (the only eval-set protection before issue 15) and `decontaminate` default, --cross-lingual,
   --cross-lingual --judge.
2. Real files (LLaMA-Factory's alpaca_en_demo / alpaca_zh_demo): the last 99 English records are
   the "eval set"; training data is the other 900 English + 1000 Chinese records plus 33 eval
   records copied whole, 33 eval questions with another answer, and 33 eval questions lightly
   edited (lower case, no punctuation, one word replaced). Detections, false positives, and CPU
   seconds of this process (best of --rounds) for `dedupe --against` and `decontaminate`.

    .venv/bin/python bench/bench_decontam.py --real-dir ../shared/data/llamafactory
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from datacraft.decontam import DecontamConfig, decontaminate_file  # noqa: E402
from datacraft.dedupe import dedupe_file  # noqa: E402
from datacraft.llm.config import resolve_llm_config  # noqa: E402
from tests.decontam.decontam_server import DecontamLLM  # noqa: E402
from tests.decontam.planting import EVAL_EN, EVAL_ZH, detection, light_edit, plant  # noqa: E402


def _dropped(rejects: Path) -> set[str]:
    if not rejects.exists():
        return set()
    return {json.loads(line)["record"]["id"] for line in rejects.read_text(encoding="utf-8").splitlines()
            if "record" in json.loads(line)}


def fixtures(tmp: Path) -> None:
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-key")
    print("\n1. planted fixture items, caught/planted per kind (clean = false positives / clean records)")
    with DecontamLLM() as server:
        train, kinds = plant(tmp, server)
        rows = {}
        rejects = tmp / "dedupe_rejects.jsonl"
        dedupe_file([str(train)], str(tmp / "d.jsonl"), rejects=str(rejects), against=[str(EVAL_EN), str(EVAL_ZH)])
        rows["dedupe --against (baseline)"] = detection(rejects, kinds)
        llm = resolve_llm_config(base_url=server.url, model="fake", use_cache=False)
        for label, settings in (("decontaminate", {}), ("  --cross-lingual", {"cross_lingual": True}),
                                ("  --cross-lingual --judge", {"cross_lingual": True, "judge": True})):
            rejects = tmp / "rejects.jsonl"
            decontaminate_file([str(train)], str(tmp / "o.jsonl"), against=[str(EVAL_EN), str(EVAL_ZH)],
                               rejects=str(rejects), config=DecontamConfig(**settings), llm=llm if settings else None)
            rows[label] = detection(rejects, kinds)
    columns = list(next(iter(rows.values())))
    print(f"{'detector':<30}" + "".join(f"{c:>18}" for c in columns))
    for label, found in rows.items():
        print(f"{label:<30}" + "".join(f"{found[c]:>18}" for c in columns))


def real(tmp: Path, folder: Path, rounds: int) -> None:
    en = json.loads((folder / "alpaca_en_demo.json").read_text(encoding="utf-8"))
    zh = json.loads((folder / "alpaca_zh_demo.json").read_text(encoding="utf-8"))
    evals = en[900:]
    eval_path = tmp / "eval_en_tail.json"
    eval_path.write_text(json.dumps(evals, ensure_ascii=False), encoding="utf-8")
    rng = random.Random(0)
    rows, kinds = [], {}
    for i, r in enumerate(en[:900] + zh):
        rows.append({**r, "id": f"clean-{i}"})
        kinds[f"clean-{i}"] = "clean"
    for i, item in enumerate(evals[:99]):
        kind = ("whole_record", "question_new_answer", "question_light_edit")[i % 3]
        question = item["instruction"] + ("\n" + item["input"] if item.get("input") else "")
        if kind == "whole_record":
            record = dict(item)
        elif kind == "question_new_answer":
            record = {"instruction": question, "input": "", "output": rng.choice(en[:900])["output"]}
        else:
            record = {"instruction": light_edit(question) if len(question.split()) > 2 else question.lower(),
                      "input": "", "output": rng.choice(en[:900])["output"]}
        record["id"] = f"plant-{i}"
        kinds[record["id"]] = kind
        rows.append(record)
    rng.shuffle(rows)
    train = tmp / "train_real.jsonl"
    train.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"\n2. real files: {len(rows)} training records ({len(rows) - 99} clean + 99 planted), 99 eval items")

    def run(name: str) -> tuple[float, set[str]]:
        best = float("inf")
        rejects = tmp / f"{name}.rejects.jsonl"
        for _ in range(rounds):
            started = time.process_time()
            if name == "dedupe":
                dedupe_file([str(train)], str(tmp / "out.jsonl"), rejects=str(rejects), against=[str(eval_path)])
            else:
                decontaminate_file([str(train)], str(tmp / "out.jsonl"), against=[str(eval_path)], rejects=str(rejects))
            best = min(best, time.process_time() - started)
        dropped = _dropped(rejects)
        if name == "dedupe":  # dedupe also drops duplicates inside the training data: count only eval copies
            dropped = {json.loads(line)["record"]["id"] for line in rejects.read_text().splitlines()
                       if json.loads(line)["reason"] == "copies_reference"}
        return best, dropped

    totals = Counter(kinds.values())
    print(f"{'detector':<30}{'cpu s':>8}" + "".join(f"{k:>22}" for k in totals))
    times = {}
    for name, label in (("dedupe", "dedupe --against (baseline)"), ("decontam", "decontaminate (default)")):
        seconds, dropped = run(name)
        times[name] = seconds
        caught = Counter(kinds[r] for r in dropped if r in kinds)
        print(f"{label:<30}{seconds:>8.2f}" + "".join(f"{f'{caught[k]}/{totals[k]}':>22}" for k in totals))
    print(f"decontaminate / dedupe --against CPU time: {times['decontam'] / times['dedupe']:.2f}x")


def real_chat(tmp: Path, folder: Path) -> None:
    """alpaca_zh_demo questions planted in MedicalGPT's Chinese ShareGPT conversations."""
    zh = json.loads((folder / "alpaca_zh_demo.json").read_text(encoding="utf-8"))
    chats = [json.loads(line) for line in (folder.parent / "more" / "sharegpt_zh_1k.jsonl").read_text(encoding="utf-8").splitlines()]
    evals = zh[:200]
    eval_path = tmp / "zh_eval.json"
    eval_path.write_text(json.dumps(evals, ensure_ascii=False), encoding="utf-8")
    kinds, rows = {}, []
    for i, chat in enumerate(chats):
        chat = {**chat, "id": f"chat-{i}"}
        kind = "clean"
        if i < 90:
            item = evals[i]
            question = item["instruction"] + ("\n" + item["input"] if item["input"] else "")
            turns = list(chat["conversations"])
            kind = ("first_turn", "last_turn", "inside_a_turn")[i % 3]
            if kind == "first_turn":
                turns = [{"from": "human", "value": question}, {"from": "gpt", "value": item["output"]}, *turns]
            elif kind == "last_turn":
                turns = [*turns, {"from": "human", "value": question}, {"from": "gpt", "value": "好的。"}]
            else:
                turns = [{"from": "human", "value": "我有个问题：" + question + " 请详细回答。"}, *turns[1:]]
            chat["conversations"] = turns
        kinds[chat["id"]] = kind
        rows.append(chat)
    train = tmp / "chats.jsonl"
    train.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"\n3. real chats: {len(rows)} sharegpt_zh_1k conversations, 90 of them given an alpaca_zh_demo "
          "question (200 items are the eval set)")
    totals = Counter(kinds.values())
    for label, against, keep in (("planted", eval_path, kinds), ("unplanted: all 1,000 alpaca_zh_demo items",
                                                                    folder / "alpaca_zh_demo.json", None)):
        source = train if keep is not None else folder.parent / "more" / "sharegpt_zh_1k.jsonl"
        rejects = tmp / "chat.rejects.jsonl"
        started = time.process_time()
        result = decontaminate_file([str(source)], str(tmp / "o.jsonl"), against=[str(against)], rejects=str(rejects))
        seconds = time.process_time() - started
        if keep is None:
            print(f"{label}: {result['rejected']} of {result['read']} conversations dropped, {seconds:.2f} CPU s")
            continue
        caught = Counter(kinds[r] for r in _dropped(rejects))
        print(f"{label}: " + "  ".join(f"{k} {caught[k]}/{totals[k]}" for k in totals) + f", {seconds:.2f} CPU s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real-dir", type=Path, default=ROOT.parent / "shared" / "data" / "llamafactory")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus (shared machine: "
          "CPU seconds of this process, not wall time)")
    with tempfile.TemporaryDirectory() as tmp:
        fixtures(Path(tmp))
        if (args.real_dir / "alpaca_en_demo.json").exists():
            real(Path(tmp), args.real_dir, args.rounds)
            if (args.real_dir.parent / "more" / "sharegpt_zh_1k.jsonl").exists():
                real_chat(Path(tmp), args.real_dir)
        else:
            print(f"\n2. skipped: {args.real_dir}/alpaca_en_demo.json not found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
