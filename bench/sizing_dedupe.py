"""Memory of near-dedupe's driver-side state per million records: signatures, band keys, and the resolve peak.

The Ray executor gathers every record's signature (num_perm uint16) and band keys (bands uint32)
on the driver and runs `lsh.resolve` there. This measures, with tracemalloc (numpy reports its
buffers to it), the bank's bytes and the peak of `resolve` over it, on bench/synth.py's corpus.

    .venv/bin/python bench/sizing_dedupe.py --sizes 100000 300000
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.synth import generate  # noqa: E402
from datacraft.dedupe.config import DedupeConfig  # noqa: E402
from datacraft.dedupe.lsh import resolve  # noqa: E402
from datacraft.dedupe.normalize import answer_last_text  # noqa: E402
from datacraft.dedupe.stage import new_bank  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    args = parser.parse_args()
    config = DedupeConfig()
    bands, rows = config.lsh_shape()
    print(f"threshold {config.threshold}, num_perm {config.num_perm}, {bands} bands x {rows} rows")
    print("| N | signatures MB | band keys MB | bank MB per 1M records | resolve peak MB | resolve peak per 1M records |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        texts = [answer_last_text(r, config.fields) for r in generate(n, seed=0).records]
        bank = new_bank(config)
        for lo in range(0, n, config.batch_size):
            bank.add(texts[lo:lo + config.batch_size])
        del texts
        sig = sum(s.nbytes for s in bank.sigs) / 1e6
        keys = sum(k.nbytes for k in bank.keys) / 1e6
        has = sum(h.nbytes for h in bank.has) / 1e6
        tracemalloc.start()
        resolve(bank, config.threshold, 0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        per = 1e6 / n
        print(f"| {n:,} | {sig:.0f} | {keys:.0f} | {(sig + keys + has) * per:.0f} | {peak / 1e6:.0f} | "
              f"{peak / 1e6 * per:.0f} |", flush=True)


if __name__ == "__main__":
    main()
