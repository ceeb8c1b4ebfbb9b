"""Benchmark `datacraft diagnose` on the labelled curves (tests/train/labelled_curves.py).

Contender: this checkout's diagnose. Baseline, in the same run: the diagnose of the `main` branch
(read with `git show main:datacraft/train/diagnose.py`), when git and that branch are available.
Prints, for each: false-alarm rate (healthy curves given a problem label), miss rate (problem
curves called healthy), exact-label accuracy, and the curves each got wrong.

Run: .venv/bin/python bench/bench_diagnose.py
"""

from __future__ import annotations

import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def baseline_module() -> types.ModuleType | None:
    try:
        source = subprocess.run(["git", "show", "main:datacraft/train/diagnose.py"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("diagnose_main")
    sys.modules["diagnose_main"] = module  # dataclasses look their module up here
    exec(compile(source, "main:datacraft/train/diagnose.py", "exec"), module.__dict__)  # noqa: S102
    return module


def judge(diagnose, curves, kwargs_ok: bool):
    from tests.train.labelled_curves import rates

    results, wrong = [], []
    for name, want, losses, evals, kwargs in curves:
        got = diagnose(losses, evals, **(kwargs if kwargs_ok else {})).label
        results.append((want, got))
        if got != want:
            wrong.append(f"{name}: {got}")
    return rates(results), wrong


def main() -> int:
    from datacraft.train.diagnose import diagnose
    from tests.train.labelled_curves import labelled_set

    curves = labelled_set()
    started = time.process_time()
    mine, wrong = judge(diagnose, curves, True)
    cpu = time.process_time() - started
    print(f"{len(curves)} labelled curves ({mine['healthy']} healthy, {mine['problems']} with a problem)")
    print(f"this checkout: false alarms {mine['false_alarm_rate']:.1%}, misses {mine['miss_rate']:.1%}, "
          f"label accuracy {mine['label_accuracy']:.1%} ({cpu * 1000 / len(curves):.1f} ms CPU per curve)")
    print("  wrong: " + (", ".join(wrong) or "none"))
    old = baseline_module()
    if old is not None:
        base, base_wrong = judge(old.diagnose, curves, False)  # main's diagnose takes no vocab_size/predictions
        print(f"main branch:   false alarms {base['false_alarm_rate']:.1%}, misses {base['miss_rate']:.1%}, "
              f"label accuracy {base['label_accuracy']:.1%}")
        print("  wrong: " + (", ".join(base_wrong) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
