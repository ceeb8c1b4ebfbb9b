"""Run every benchmark in bench/ one after another (`make bench`); each prints its own ratios.

Results are recorded by hand in docs/benchmarks.md with the machine they came from. Run on a quiet
machine: the figures are wall-clock and CPU time, and neighbours change the first.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name -> arguments; sizes are the ones docs/benchmarks.md reports.
BENCHES = {
    "validate": [],
    "dedupe": [],
    "ingest": [],
    "generate": [],
    "augment": [],
    "train": [],  # on a machine without CUDA it runs its --tiny CPU check, not the GPU target
    "saturation": [],  # issue 12: the digit-skills task to convergence vs a fixed step budget (CPU)
    "diagnose": [],  # issue 12: labelled curves, this checkout vs main's diagnose
}
BENCHES.update({"decontam": [], "mix": []})  # issue 15


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(BENCHES), help="run only these (repeatable)")
    args = parser.parse_args()
    failed = []
    for name in args.only or list(BENCHES):
        script = HERE / f"bench_{name}.py"
        print(f"\n===== bench_{name}.py =====", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *BENCHES[name]])
        print(f"===== bench_{name}.py: exit {code}, {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
