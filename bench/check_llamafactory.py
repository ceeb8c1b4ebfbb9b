"""Export the real demo sets in every layout and check that LLaMA-Factory's own loader keeps every record.

Sources: LLaMA-Factory's alpaca_zh/en, glaive_toolcall_zh (ShareGPT with tools) and dpo_zh demo
sets, a ShareGPT conversation set, and (unless --no-augment) the tool-call and ShareGPT sets after
`augment --method synonym`, so augmented copies are checked too. Each source is exported by
datacraft's `export_dataset` as alpaca, sharegpt and openai (a layout that cannot hold a record,
such as tool calls in Alpaca, rejects it as `unconvertible`: that count is printed, not hidden).
Then `bench/lf_probe.py` runs in the interpreter given by --lf-python (an environment with
`pip install llamafactory`, kept apart from datacraft's) and loads every exported file with
`llamafactory.data.get_dataset`: stage sft, or rm for preference data.

Printed per file: datacraft's exported/read (and its rejects by reason), then LLaMA-Factory's
kept/total. Exit 1 when LLaMA-Factory drops any exported record, 2 when the check cannot run.

Run: .venv/bin/python bench/check_llamafactory.py --lf-python /path/to/lf-venv/bin/python \\
         [--data ../shared/data/llamafactory] [--sharegpt ../shared/data/more/sharegpt_zh_1k.jsonl] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from datacraft.augment import AugmentConfig, augment_file  # noqa: E402
from datacraft.errors import DatacraftError  # noqa: E402
from datacraft.export import export_dataset  # noqa: E402

LAYOUTS = ("alpaca", "sharegpt", "openai")
DEMOS = {"alpaca_zh": "alpaca_zh_demo.json", "alpaca_en": "alpaca_en_demo.json",
         "glaive_toolcall_zh": "glaive_toolcall_zh_demo.json", "dpo_zh": "dpo_zh_demo.json"}
AUGMENTED = ("glaive_toolcall_zh", "sharegpt_zh_1k")  # the chat sets augment now rewrites turn by turn


def sources(args: argparse.Namespace, work: Path) -> dict[str, Path]:
    """name -> input file: the demo sets, the ShareGPT set, and their augmented versions."""
    found = {name: Path(args.data) / file for name, file in DEMOS.items()}
    if args.sharegpt:
        found["sharegpt_zh_1k"] = Path(args.sharegpt)
    missing = [str(p) for p in found.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"error: not found: {', '.join(missing)} (see --data and --sharegpt)")
    if not args.no_augment:
        for name in AUGMENTED:
            if name in found:
                out = work / f"{name}_aug.jsonl"
                counts = augment_file([str(found[name])], str(out), config=AugmentConfig(methods=["synonym"]))
                copies = counts["methods"]["synonym"]["produced"]
                print(f"augment {name}: {counts['read']} records + {copies} synonym copies", flush=True)
                found[f"{name}+aug"] = out
    return found


def export_all(found: dict[str, Path], out_dir: Path) -> list[dict]:
    """Export every source in every layout into `out_dir` (one dataset_info.json); one row per export."""
    rows = []
    for source, path in found.items():
        for layout in LAYOUTS:
            name = f"{source.replace('+', '_')}_{layout}"
            row = {"source": source, "layout": layout, "name": name}
            try:
                result = export_dataset([str(path)], str(out_dir), fmt=layout, val_size=0, name=name)
            except DatacraftError as exc:  # nothing convertible: e.g. every record has tool calls
                row.update(read=None, exported=0, reasons=str(exc).split(";")[0])
                rows.append(row)
                continue
            dataset = result["datasets"][0]
            info = json.loads((out_dir / "dataset_info.json").read_text(encoding="utf-8"))[dataset]
            row.update(read=result["read"], exported=result["kept"], reasons=result["reasons"],
                       dataset=dataset, stage="rm" if info.get("ranking") else "sft")
            rows.append(row)
    return rows


def probe(lf_python: str, out_dir: Path, rows: list[dict], template: str) -> dict[str, dict]:
    """LLaMA-Factory's kept/total per dataset, from bench/lf_probe.py in the other interpreter."""
    wanted = [f"{r['dataset']}:{r['stage']}" for r in rows if r.get("dataset")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="lf-check-") as cwd:  # LLaMA-Factory writes caches beside itself
        done = subprocess.run([lf_python, str(HERE / "lf_probe.py"), str(out_dir.resolve()), *wanted,
                               "--template", template], cwd=cwd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"error: the LLaMA-Factory probe failed (exit {done.returncode}); its stderr is above")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"LLaMA-Factory loader: {len(wanted)} datasets, {cpu:.0f} s CPU")
    mark = "lf_probe: "
    return {item["name"]: item for item in (json.loads(line[len(mark):]) for line in done.stdout.splitlines()
                                            if line.startswith(mark))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lf-python", required=True, help="python of an environment with llamafactory installed")
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data" / "llamafactory"),
                        help="folder with LLaMA-Factory's demo sets (its data/)")
    parser.add_argument("--sharegpt", default=str(HERE.parent.parent / "shared" / "data" / "more" / "sharegpt_zh_1k.jsonl"),
                        help="a ShareGPT conversation set (empty: none)")
    parser.add_argument("--out", default=None, help="work folder: exports/ and augmented/ (default: a temp folder)")
    parser.add_argument("--template", default="qwen", help="LLaMA-Factory chat template (qwen handles tool calls)")
    parser.add_argument("--no-augment", action="store_true", help="do not also check augmented copies")
    args = parser.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="lf-check-"))
    out_dir, augmented = work / "exports", work / "augmented"  # an export folder must not hold an input
    out_dir.mkdir(parents=True, exist_ok=True)
    augmented.mkdir(exist_ok=True)
    print(f"machine: {platform.machine()} {platform.system()}, Python {platform.python_version()}; exports in {out_dir}")
    found = sources(args, augmented)
    rows = export_all(found, out_dir)
    loaded = probe(args.lf_python, out_dir, rows, args.template)
    print("\n| source | layout | datacraft exported / read | datacraft rejects | LLaMA-Factory kept / total |")
    print("|---|---|---|---|---|")
    dropped = 0
    for row in rows:
        lf = loaded.get(row.get("dataset", ""))
        reasons = row["reasons"] if isinstance(row["reasons"], str) else \
            ", ".join(f"{k} {v}" for k, v in row["reasons"].items()) or "none"
        kept = f"{lf['kept']} / {lf['total']} ({lf['stage']})" if lf else "not exported"
        if lf:
            dropped += lf["total"] - lf["kept"]
        read = "-" if row["read"] is None else row["read"]
        print(f"| {row['source']} | {row['layout']} | {row['exported']} / {read} | {reasons} | {kept} |")
    print(f"\nLLaMA-Factory dropped {dropped} exported record(s)")
    return 1 if dropped else 0


if __name__ == "__main__":
    sys.exit(main())
