"""Benchmark `datacraft saturation` on a task with a known answer (bench/digit_skills.py).

Three digit-string skills, one rare (25%) and harder (reverse). A tiny Llama-style model (digits
tokenised one per token, random weights) is trained from scratch (full fine-tune) on nested,
stratified subsets, 3 seeds per size, and scored by exact match on 240 held-out strings.

Contender: the default budget, each run trained to convergence (early stopping on eval loss,
patience 4 evals of one per epoch, cap 100 epochs, best weights kept).
Baseline (same run, same subsets, same settings): the old default, a fixed 200 optimizer steps per
run whatever the size.

Prints both reports, the ratio of their plateaus, and process CPU time; writes
bench/out/saturation/{converge,steps}/report.json and saturation.png.
Run: .venv/bin/python bench/bench_saturation.py [--sizes 100,200,400,800,1600 --seeds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "out" / "saturation"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,200,400,800,1600")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import orjson
    import torch
    from digit_skills import digit_task

    from datacraft.train.config import TrainConfig
    from datacraft.train.deps import quiet_libraries
    from datacraft.train.run import saturation_model
    from datacraft.train.saturation import SaturationConfig, format_report
    from datacraft.train.tiny import build_tiny_model

    torch.set_num_threads(1)  # tiny matmuls: threads cost more than they give
    quiet_libraries()
    sizes = [int(s) for s in args.sizes.split(",")]
    train, evals = digit_task(max(sizes), 240, seed=0)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.jsonl", train), ("eval.jsonl", evals)):
        (OUT / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    model = build_tiny_model(OUT / "model", [*train, *evals], vocab_size=120, single_digits=True, hidden=64,
                             layers=2, heads=4, init_range=0.02)
    config = TrainConfig(model=model, lora=None, learning_rate=1e-3, scheduler="constant", warmup_ratio=0.05,
                         batch_size=16, max_length=48, metric="exact_match", max_new_tokens=8, seed=0)
    results = {}
    modes = {"converge": SaturationConfig(sizes=sizes, seeds=args.seeds, patience=4, max_epochs=100),
             "steps": SaturationConfig(sizes=sizes, seeds=args.seeds, budget="steps", steps=200)}
    for mode, sat in modes.items():
        if mode == "steps" and args.skip_baseline:
            continue
        started = time.process_time()
        report = saturation_model([str(OUT / "train.jsonl")], [str(OUT / "eval.jsonl")], str(OUT / mode), config,
                                  sat, on_run=lambda r: print(f"  {r['size']:>5} seed {r['seed']}: {r['score']:.3f} "
                                                              f"({r['epochs']} epochs, converged {r['converged']})",
                                                              flush=True))
        cpu = time.process_time() - started
        results[mode] = report
        print(f"\n=== {mode}: process CPU {cpu:.0f} s (reused runs: {report['reused_runs']}) ===")
        print(format_report(report), flush=True)
    if "steps" in results:
        conv, steps = results["converge"], results["steps"]
        top = {name: (r.get("fit") or {}).get("plateau", 0.0) for name, r in (("converge", conv), ("steps", steps))}
        print(f"\nlargest size {sizes[-1]}: converge {conv['sizes'][-1]['mean']:.3f} vs fixed 200 steps "
              f"{steps['sizes'][-1]['mean']:.3f} exact match; fitted plateau {top['converge']:.3f} vs "
              f"{top['steps']:.3f} ({top['converge'] - top['steps']:+.3f})")
    return 0 if results["converge"]["sizes"][-1]["mean"] >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
