"""Reply-parser accuracy on every LLaMA-Factory demo record (alpaca_en_demo, alpaca_zh_demo) in every reply shape.

Each record is embedded, three to a reply, in the shapes models send (tests/reply_shapes.py:
plain, fenced, chatty, trailing commas, JSON Lines, opening reasoning, escaped, cut off) and the
parser must return exactly the embedded records. Baseline in the same run: the first-bracket
parser datacraft used before (git history, passed with --baseline FILE). Needs
../shared/data/llamafactory/ (not part of the project); prints misparses per shape, target 0.

    python bench/bench_parse.py [--data DIR] [--baseline old_parse.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from reply_shapes import misparses, replies  # noqa: E402

from datacraft.generate.parse import parse_items, to_record  # noqa: E402

_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = next((p / "shared" / "data" / "llamafactory" for p in (_ROOT.parent, _ROOT.parent.parent)
                     if (p / "shared" / "data" / "llamafactory").is_dir()), _ROOT.parent / "shared" / "data" / "llamafactory")


def _load(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def _module(path: str):
    spec = importlib.util.spec_from_file_location("baseline_parse", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--baseline", default=None, help="an older parse.py to compare against")
    args = ap.parse_args()
    parsers = [("datacraft", parse_items, to_record)]
    if args.baseline:
        old = _module(args.baseline)
        parsers.append(("baseline", old.parse_items, old.to_record))
    for name in ("alpaca_en_demo.json", "alpaca_zh_demo.json"):
        records = _load(Path(args.data) / name)
        shapes = Counter(shape for shape, *_ in replies(records))
        for label, parse, to_rec in parsers:
            started = time.process_time()
            count, wrong = misparses(records, parse, to_rec)
            cpu = time.process_time() - started
            by_shape = Counter(shape for shape, _ in wrong)
            detail = ", ".join(f"{s} {by_shape[s]}/{shapes[s]}" for s in shapes if by_shape[s]) or "none"
            print(f"{name}: {len(records)} records, {count} replies, parser {label}: {len(wrong)} misparsed "
                  f"({detail}); {cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
