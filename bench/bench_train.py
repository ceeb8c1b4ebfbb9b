"""Benchmark `datacraft train`: packed (padding-free) batches vs a plain padded Hugging Face Trainer,
and the saturation curve of a task learned from scratch.

1. Throughput. Baseline: `transformers.Trainer` with `DataCollatorForSeq2Seq(padding="longest")`
   (each batch padded to its longest record), the same from-config model (~0.5B parameters on GPU),
   the same LoRA adapter (r 16, alpha 32, all linear layers), the same records, batch size, max
   length, precision (bf16 on GPU), attention kernel (sdpa) and optimizer. Contender: datacraft's
   Trainer with `packing="on"`. Both measured in this run: real (non-padding) tokens per second over
   the steps after a warm-up, and peak GPU memory. Records have mixed lengths (log-uniform), as
   real Alpaca data does.
2. Saturation. Attribute extraction from generated product pages (datacraft.train.toy): one
   attribute (warranty) is on only a quarter of the pages. A small model is trained from scratch on
   nested, stratified subsets, several seeds each, and scored by exact match on fixed held-out pages,
   with per-attribute curves. Runs are resumable (bench/out/train/saturation/runs.jsonl).

Run on a GPU:   .venv/bin/python bench/bench_train.py --device cuda [--markdown]
CPU smoke test: .venv/bin/python bench/bench_train.py --tiny   (tiny scale: not the target figures)
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from datacraft.train.config import LoraSettings, TrainConfig
from datacraft.train.data import encode_records
from datacraft.train.deps import quiet_libraries, require_train
from datacraft.train.toy import product_pages

OUT = Path(__file__).parent / "out" / "train"
WORDS = ("the model data answer explain list write summary python train token sentence value table "
         "result example system process number function user question 数据 模型 训练 回答 问题 解释").split()
# name: (hidden, layers, heads, kv heads, intermediate, model vocab, tokenizer vocab)
PRESETS = {"0.5b": (1024, 24, 16, 8, 4096, 32000, 8000), "tiny": (64, 2, 4, 2, 128, None, 400)}


def mixed_records(n: int, seed: int, max_words: int) -> list[dict[str, Any]]:
    """Alpaca records whose lengths spread log-uniformly from a few words to `max_words`."""
    rng = random.Random(seed)

    def text(lo: int, hi: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(int(math.exp(rng.uniform(math.log(lo), math.log(hi))))))

    return [{"instruction": text(4, 40), "input": text(1, max_words // 2) if rng.random() < 0.4 else "",
             "output": text(4, max_words)} for _ in range(n)]


def build_model_dir(path: Path, preset: str, corpus: list[dict[str, Any]], max_positions: int) -> str:
    """Tokenizer trained on the corpus, a randomly initialised Llama of the preset's size, saved."""
    from datacraft.train.tiny import build_model, build_tokenizer, record_texts

    hidden, layers, heads, kv, inter, vocab, tok_vocab = PRESETS[preset]
    tokenizer = build_tokenizer(record_texts(corpus), vocab_size=tok_vocab)
    model = build_model(tokenizer, hidden=hidden, layers=layers, heads=heads, kv_heads=kv, intermediate=inter,
                        vocab_size=vocab, max_positions=max_positions, init_range=0.02)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def _sync(device: str) -> float:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter()


def _reset(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak(device: str) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None


def _rate(stamps: list[float], tokens: list[int], warmup: int) -> float:
    # tokens[i] were trained in the step that ended at stamps[i]; time the steps after the warm-up.
    return sum(tokens[warmup + 1:len(stamps)]) / (stamps[-1] - stamps[warmup])


def run_datacraft(config: TrainConfig, examples: list, warmup: int) -> dict[str, Any]:
    """datacraft's Trainer with packed batches: tokens/s after the warm-up, peak memory."""
    from datacraft.train.model import load_for_training
    from datacraft.train.trainer import Trainer

    _reset(config.device)
    loaded = load_for_training(config)
    stamps, tokens = [], []

    def on_step(row: dict[str, Any]) -> None:
        stamps.append(_sync(config.device))
        tokens.append(row["tokens"])

    result = Trainer(loaded, config).fit(examples, on_step=on_step)
    out = {"tokens_per_s": _rate(stamps, tokens, warmup), "peak_gib": _peak(config.device),
           "final_loss": result.history[-1]["loss"], "packed": result.packed}
    del loaded
    return out


def run_hf_trainer(config: TrainConfig, examples: list, warmup: int) -> dict[str, Any]:
    """The baseline: transformers.Trainer on the same examples, padded to the longest in each batch."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    _reset(config.device)
    tokenizer = AutoTokenizer.from_pretrained(config.model)
    bf16 = config.device.startswith("cuda") and torch.cuda.is_bf16_supported()
    model = AutoModelForCausalLM.from_pretrained(config.model, dtype=torch.bfloat16 if bf16 else torch.float32,
                                                 attn_implementation=config.attn_implementation or "sdpa")
    lora = config.lora
    model = get_peft_model(model.to(config.device), LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                                               target_modules=lora.targets, task_type="CAUSAL_LM"))
    data = Dataset.from_dict({"input_ids": [e.input_ids for e in examples], "labels": [e.labels for e in examples]})
    padder = DataCollatorForSeq2Seq(tokenizer, padding="longest", label_pad_token_id=-100, return_tensors="pt")
    real: list[int] = []
    padded: list[int] = []

    def collate(features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = padder(features)
        real.append(int(batch["attention_mask"].sum()))  # batches come in step order (no workers)
        padded.append(batch["input_ids"].numel())
        return batch

    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            stamps.append(_sync(config.device))

    args = TrainingArguments(
        output_dir=str(OUT / "hf_trainer"), per_device_train_batch_size=config.batch_size, max_steps=config.max_steps,
        learning_rate=config.learning_rate, lr_scheduler_type=config.scheduler, warmup_steps=0, weight_decay=0.0,
        max_grad_norm=config.max_grad_norm or 0.0, bf16=bf16, use_cpu=not config.device.startswith("cuda"),
        report_to="none", save_strategy="no", logging_strategy="no", remove_unused_columns=False,
        dataloader_num_workers=0, seed=config.seed, optim="adamw_torch")
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate, callbacks=[Clock()])
    for noisy in (PrinterCallback, ProgressCallback):  # keep stdout for the results
        trainer.remove_callback(noisy)
    trainer.train()
    out = {"tokens_per_s": _rate(stamps, real, warmup), "peak_gib": _peak(config.device),
           "padding_share": 1 - sum(real) / sum(padded)}
    del trainer, model
    return out


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    """Part 1: both trainers on the same model, adapter and records."""
    from transformers import AutoTokenizer

    preset = "tiny" if args.tiny else "0.5b"
    records = mixed_records(args.records, seed=1, max_words=args.max_length // 2)
    model_dir = build_model_dir(OUT / f"model-{preset}", preset, records[:2000], max_positions=args.max_length)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    examples, stats = encode_records(records, tokenizer, max_length=args.max_length)
    lengths = sorted(len(e.input_ids) for e in examples)
    config = TrainConfig(model=model_dir, batch_size=args.batch_size, max_steps=args.warmup + args.steps,
                         learning_rate=2e-4, warmup_ratio=0.0, device=args.device, max_length=args.max_length,
                         lora=LoraSettings(r=16, alpha=32, dropout=0.0), metric=None,
                         attn_implementation=args.attn, packing="on")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):  # count parameters without allocating them
        params = sum(p.numel() for p in AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_dir)).parameters())
    torch.manual_seed(0)
    baseline = run_hf_trainer(config, examples, args.warmup)
    ours = run_datacraft(config, examples, args.warmup)
    return {"preset": preset, "params": params, "records": len(examples), "truncated": stats.truncated,
            "length_p50": lengths[len(lengths) // 2], "length_max": lengths[-1], "baseline": baseline,
            "datacraft": ours, "speedup": ours["tokens_per_s"] / baseline["tokens_per_s"],
            "memory_ratio": (ours["peak_gib"] / baseline["peak_gib"]) if ours["peak_gib"] else None}


def saturation(args: argparse.Namespace) -> dict[str, Any]:
    """Part 2: the product-page task learned from scratch, with per-attribute curves."""
    from datacraft.train.run import saturation_model
    from datacraft.train.saturation import SaturationConfig

    tiny = args.tiny
    pool = product_pages(120 if tiny else 3000, seed=0)
    evals = product_pages(20 if tiny else 200, seed=99)
    root = OUT / ("saturation-tiny" if tiny else "saturation")
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, records in (("pool.jsonl", pool), ("eval.jsonl", evals)):
        (root / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        paths.append(str(root / name))
    model_dir = root / "model"
    if not (model_dir / "config.json").exists():
        from datacraft.train.tiny import build_model, build_tokenizer, record_texts

        tokenizer = build_tokenizer(record_texts([*pool, *evals]), vocab_size=400 if tiny else 2000)
        size = {"hidden": 64, "layers": 2, "heads": 4} if tiny else {"hidden": 384, "layers": 6, "heads": 6}
        build_model(tokenizer, **size, max_positions=256, init_range=0.02).save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)
    config = TrainConfig(model=str(model_dir), lora=None, learning_rate=3e-3 if tiny else 1e-3, batch_size=16 if tiny else 32,
                         warmup_ratio=0.05, metric="exact_match", max_new_tokens=6, max_length=256,
                         device=args.device)
    sizes = [50, 100, 200, 400] if tiny else [250, 500, 1000, 2000, 4000, 8000]
    # A fixed budget only for the tiny smoke check or when asked (--sat-steps); otherwise every size
    # trains to convergence, as the curve needs (issue 12).
    fixed = tiny or args.sat_steps is not None
    sat = SaturationConfig(sizes=sizes, seeds=2 if tiny else 3, budget="steps" if fixed else "converge",
                           steps=args.sat_steps or 150, label="meta.attribute")
    report = saturation_model([paths[0]], [paths[1]], str(root / "run"), config, sat,
                              on_run=lambda r: print(f"  size {r['size']} seed {r['seed']}: {r['score']:.3f}",
                                                     file=sys.stderr))
    return report


def markdown(result: dict[str, Any], args: argparse.Namespace) -> str:
    """The `## Train` figures as markdown."""
    t, scale = result["throughput"], "CPU tiny scale (smoke test, not the target)" if args.tiny else "GPU"
    lines = [f"Scale: {scale}; device {args.device}; {t['params'] / 1e6:.1f}M-parameter from-config Llama; "
             f"{t['records']} records, p50 {t['length_p50']} / max {t['length_max']} tokens; batch {args.batch_size}; "
             f"{args.steps} timed steps after {args.warmup} warm-up.", "",
             "| trainer | tokens/s | peak memory (GiB) |", "|---|---|---|",
             f"| HF Trainer, padded (baseline) | {t['baseline']['tokens_per_s']:,.0f} | {_gib(t['baseline']['peak_gib'])} |",
             f"| datacraft, packed | {t['datacraft']['tokens_per_s']:,.0f} | {_gib(t['datacraft']['peak_gib'])} |",
             "", f"Baseline batches were {t['baseline']['padding_share']:.0%} padding. "
             f"**Speed-up: {t['speedup']:.2f}x**" + (f", peak memory ratio {t['memory_ratio']:.2f}" if t["memory_ratio"] else "")]
    sat = result.get("saturation")
    if sat:
        from datacraft.train.saturation import format_report

        lines += ["", "Saturation (exact match, product-page attribute extraction from scratch):", "", "```",
                  format_report(sat), "```"]
    return "\n".join(lines)


def _gib(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "n/a (CPU)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", help="cuda for the real benchmark; auto: cuda if present")
    parser.add_argument("--tiny", action="store_true", help="tiny model and data: a CPU smoke test")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None, help="timed steps")
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--attn", default="sdpa", help="attention kernel for both sides")
    parser.add_argument("--skip-saturation", action="store_true")
    parser.add_argument("--sat-steps", type=int, default=None, help="optimizer steps per saturation run")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    require_train()
    quiet_libraries()
    import torch

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cpu" and not args.tiny:
        print("no CUDA device: running the tiny CPU smoke test (--tiny); the target needs --device cuda", file=sys.stderr)
        args.tiny = True
    if args.tiny:
        torch.set_num_threads(1)
    defaults = {"records": 400, "max_length": 256, "steps": 20, "warmup": 3} if args.tiny else \
        {"records": 4000, "max_length": 2048, "steps": 40, "warmup": 5}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    result: dict[str, Any] = {"machine": f"{platform.node()} {platform.processor() or platform.machine()}",
                              "torch": torch.__version__, "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None}
    result["throughput"] = throughput(args)
    if not args.skip_saturation:
        result["saturation"] = saturation(args)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("results-tiny.json" if args.tiny else "results.json")).write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result, args) if args.markdown else json.dumps(result["throughput"], indent=2, default=str))


if __name__ == "__main__":
    main()
