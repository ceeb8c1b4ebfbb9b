"""Benchmark `datacraft validate` against a pre-built jsonschema Draft202012Validator.

Baseline: `Draft202012Validator(schema)` built once, then `is_valid(record)` per record (its fastest
call; `iter_errors`, which gives messages like ours, is timed too). Contender: the hand-written
checkers. Corpus: seeded synthetic records, about a third with one planted defect of each kind.

Two verdicts are compared honestly:
- the schema part (`Checker.schema_errors`) must agree with `is_valid` on every record, or this
  script exits 1;
- full validation adds LLaMA-Factory's rules (turn order, ending on the user, preference data),
  so it rejects more records than the schema alone: those are counted and shown, not hidden.

Run: .venv/bin/python bench/bench_validate.py [--n 20000] [--seed 7] [--markdown] [--real SCHEMA=PATH ...]

`--floor N` (issue 14) times `validate` end to end on an N-record Alpaca JSON Lines file against the
fastest ways to read and check it: msgspec's typed decode (a Struct saying what the schema says, one
`decode` per line as its docs show, and `decode_lines` over 1 MB blocks), fastjsonschema's compiled
validator (orjson per line; the schema's 2020-12 `prefixItems` written as draft-07 `items`) and
jsonschema. Verdicts: the number of invalid records must be the same for all, and msgspec's per
record verdicts must equal datacraft's checker's, or this exits 1.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner
from jsonschema import Draft202012Validator

# This checkout's datacraft, not the installed one: the fresh-interpreter rows run `python -c` here,
# which puts this checkout first on sys.path, and the in-process rows must time the same code.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from datacraft.cli import cli  # noqa: E402
from datacraft.io.readers import iter_records  # noqa: E402
from datacraft.validate import Checker, load_schema  # noqa: E402

WORDS = ("data model train answer question explain list write summary python list sort"
         " 数据 模型 训练 回答 问题 解释 写 总结 中文 翻译").split()


def text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def alpaca(rng: random.Random) -> dict[str, Any]:
    rec: dict[str, Any] = {"instruction": text(rng, 4, 30), "input": text(rng, 0, 20), "output": text(rng, 20, 150)}
    if rng.random() < 0.2:
        rec["history"] = [[text(rng, 3, 10), text(rng, 5, 30)] for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.5:
        rec["id"], rec["meta"] = f"src:{rng.randint(1, 10**6)}", {"source": "bench", "line": rng.randint(1, 999)}
    return rec


def chat(rng: random.Random, user: str, bot: str, msgs: str, role: str, content: str) -> dict[str, Any]:
    turns = [{role: "system", content: text(rng, 3, 10)}] if rng.random() < 0.3 else []
    for _ in range(rng.randint(1, 4)):
        turns += [{role: user, content: text(rng, 4, 30)}, {role: bot, content: text(rng, 20, 120)}]
    return {msgs: turns}


def sharegpt(rng: random.Random) -> dict[str, Any]:
    return chat(rng, "human", "gpt", "conversations", "from", "value")


def openai(rng: random.Random) -> dict[str, Any]:
    return chat(rng, "user", "assistant", "messages", "role", "content")


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda r: r.__setitem__(key, value)


def _turn(msgs: str, key: str, value: Any, index: int = -1) -> Callable[[dict[str, Any]], None]:
    return lambda r: r[msgs][index].__setitem__(key, value)


# Each defect breaks one thing; the comment says whether jsonschema or only the rules reject it.
ALPACA_DEFECTS = [
    lambda r: r.pop("instruction"), lambda r: r.pop("output"), _set("output", 42), _set("output", None),
    _set("output", True), _set("output", ["a"]), _set("instruction", ""), _set("instruction", " \n\t"),
    _set("input", 3), _set("system", ["x"]), _set("history", "no"), _set("history", [["a", "b", "c"]]),
    _set("history", [["a", 1]]), _set("history", ["ab"]), _set("id", ""), _set("id", 7), _set("meta", []),
    _set("input", None), _set("history", None), _set("extra", 1), _set("input", "   "),  # last four: valid
]


def chat_defects(msgs: str, role: str, content: str, user: str, system: str) -> list[Callable[[dict[str, Any]], None]]:
    return [
        lambda r: r.pop(msgs), _set(msgs, {}), _set(msgs, []), _set(msgs, ["hi"]), _turn(msgs, role, "bot"),
        _turn(msgs, role, 1), lambda r: r[msgs][-1].pop(content), _turn(msgs, content, ""),
        _turn(msgs, content, "  "), _turn(msgs, content, None), _set("id", False),
        # rules only: ends on the user, wrong order, system in the middle, preference data
        lambda r: r[msgs].append({role: user, content: "and?"}), _turn(msgs, role, user),
        _turn(msgs, role, system), lambda r: r.update(chosen={}, rejected={}),
    ]


KINDS = {
    "alpaca": (alpaca, ALPACA_DEFECTS),
    "sharegpt": (sharegpt, chat_defects("conversations", "from", "value", "human", "system")
                 + [_set("tools", [1]), _set("system", 5)]),
    "openai": (openai, chat_defects("messages", "role", "content", "user", "system") + [_set("tools", "x")]),
}


def corpus(schema: str, n: int, seed: int, defect_rate: float = 0.33) -> list[dict[str, Any]]:
    """`n` records for `schema`, a seeded share of them with one planted defect each."""
    rng = random.Random(seed)
    make, defects = KINDS[schema]
    records = []
    for i in range(n):
        rec = make(rng)
        if rng.random() < defect_rate:
            defects[i % len(defects)](rec)
        records.append(rec)
    return records


def best(jobs: dict[str, Callable[[], Any]], repeat: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Best CPU time of each job over `repeat` rounds, the jobs interleaved within each round.

    CPU time of this process (not wall time) and interleaving keep the ratios fair on a machine
    shared with other work: a burst of load hits every job alike instead of one block of runs.
    The garbage collector is run before and paused during each job (as timeit does), so one job
    does not pay for another's garbage. A job that runs a subprocess is charged the child's CPU too.
    """
    times = {name: float("inf") for name in jobs}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in jobs.items():
            results.pop(name, None)
            gc.collect()
            gc.disable()
            try:
                started = time.process_time() + _children_cpu()
                results[name] = fn()
                times[name] = min(times[name], time.process_time() + _children_cpu() - started)
            finally:
                gc.enable()
    return times, results


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children."""
    t = os.times()
    return t.children_user + t.children_system


# msgspec's per-line typed decode as a script of its own, so a fresh interpreter runs it: the same
# Struct as _msgspec_alpaca, and nothing imported but msgspec (the fair partner of a CLI subprocess)
_MSGSPEC_SCRIPT = """
import sys
from typing import Annotated
import msgspec
text = Annotated[str, msgspec.Meta(pattern=r"\\S")]
unset = msgspec.UNSET
alpaca = msgspec.defstruct("Alpaca", [
    ("instruction", text), ("output", text), ("input", str | None, None), ("system", str | None, None),
    ("tools", str | None, None), ("history", list[tuple[str, str]] | None, None),
    ("id", Annotated[str, msgspec.Meta(min_length=1)] | msgspec.UnsetType, unset),
    ("meta", dict | msgspec.UnsetType, unset)])
decoder = msgspec.json.Decoder(alpaca)
errors = (msgspec.ValidationError, msgspec.DecodeError)
bad = 0
with open(sys.argv[1], "rb") as fh:
    for line in fh:
        try:
            decoder.decode(line)
        except errors:
            bad += 1
print(bad)
sys.exit(1 if bad else 0)
"""


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    mem = next((int(line.split()[1]) // 1024**2 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0) if Path("/proc/meminfo").exists() else 0
    return f"nproc {os.cpu_count()}, {cpu}, {mem} GiB RAM, Python {platform.python_version()}"


def measure(label: str, schema: str, records: list[dict[str, Any]], path: str, repeat: int) -> dict[str, Any]:
    """Time the checks on parsed `records`, then end to end on `path` (the same records in a file)."""
    n = len(records)
    validator = Draft202012Validator(load_schema(schema)[1])
    checker = Checker(schema)
    assert checker.fast, f"{schema}: the hand-written checker does not match the schema file"
    quarter = records[: max(1, n // 4)]  # iter_errors is slow: a quarter of the records
    t, out = best({
        "base": lambda: [validator.is_valid(r) for r in records],
        "iter": lambda: [not list(validator.iter_errors(r)) for r in quarter],
        "schema": lambda: [not checker.schema_errors(r) for r in records],
        "full": lambda: [not checker(r) for r in records],
    }, repeat)
    base, fast, full = out["base"], out["schema"], out["full"]
    mismatches = [i for i, (a, b) in enumerate(zip(base, fast, strict=True)) if a != b]
    rules_only = sum(1 for b, f in zip(base, full, strict=True) if b and not f)

    runner = CliRunner()
    e2e, out = best({
        "read": lambda: sum(1 for _ in iter_records(path)),
        "base": lambda: sum(not validator.is_valid(row.value) for row in iter_records(path)),
        "cli": lambda: runner.invoke(cli, ["validate", path, "--schema", schema]),
    }, repeat)
    return {
        "label": label, "n": n, "invalid_schema": base.count(False), "rules_only": rules_only,
        "mismatches": mismatches, "mb": os.path.getsize(path) / 1e6,
        "cli_summary": out["cli"].output.strip().splitlines()[-1],
        "t_base": t["base"], "t_iter": t["iter"] * n / len(quarter), "t_schema": t["schema"], "t_full": t["full"],
        "t_read": e2e["read"], "t_e2e_base": e2e["base"], "t_cli": e2e["cli"],
    }


def synthetic(schema: str, n: int, seed: int, repeat: int, tmp: str) -> dict[str, Any]:
    records = corpus(schema, n, seed)
    path = os.path.join(tmp, f"{schema}.jsonl")
    with open(path, "wb") as handle:
        for rec in records:
            handle.write(orjson.dumps(rec) + b"\n")
    return measure(f"{schema} (synthetic)", schema, records, path, repeat)


def real(spec: str, repeat: int) -> dict[str, Any]:
    schema, _, path = spec.partition("=")
    records = [row.value for row in iter_records(path)]
    return measure(f"{schema}: {Path(path).name}", schema, records, path, repeat)


def report(rows: list[dict[str, Any]], markdown: bool) -> str:
    def us(t: float, n: int) -> str:
        return f"{t / n * 1e6:.2f}"

    out = [f"Machine: {machine()}", "", "Checking alone (records already parsed), CPU µs per record:", "",
           "| corpus | records (invalid by schema / +rules only) | jsonschema is_valid | jsonschema iter_errors"
           " | datacraft schema part | ratio | datacraft full validate | ratio |", "|" + "---|" * 8]
    for r in rows:
        n = r["n"]
        out.append(
            f"| {r['label']} | {n} ({r['invalid_schema']} / +{r['rules_only']}) | {us(r['t_base'], n)} | "
            f"{us(r['t_iter'], n)} | {us(r['t_schema'], n)} | **{r['t_base'] / r['t_schema']:.1f}x** | "
            f"{us(r['t_full'], n)} | **{r['t_base'] / r['t_full']:.1f}x** |")
    out += ["", "End to end (read the file, check every record), CPU seconds:", "",
            "| corpus | size | read only | read + jsonschema is_valid | `datacraft validate` (CliRunner) | ratio"
            " | ceiling |", "|" + "---|" * 7]
    for r in rows:
        out.append(
            f"| {r['label']} | {r['mb']:.1f} MB | {r['t_read']:.3f} | {r['t_e2e_base']:.3f} | {r['t_cli']:.3f} | "
            f"**{r['t_e2e_base'] / r['t_cli']:.1f}x** | {r['t_e2e_base'] / r['t_read']:.1f}x |")
    out += ["", "ceiling = (read + jsonschema) / read only: the end-to-end ratio if checking took no time.", ""]
    for r in rows:
        out.append(f"- {r['label']}: schema-part verdicts identical to jsonschema on "
                   f"{r['n'] - len(r['mismatches'])}/{r['n']} records; the CLI said `{r['cli_summary']}`")
    text_out = "\n".join(out)
    return text_out if markdown else text_out.replace("**", "")


def _msgspec_alpaca():
    from typing import Annotated

    import msgspec

    text = Annotated[str, msgspec.Meta(pattern=r"\S")]  # minLength 1 and pattern \S, as the schema says

    unset = msgspec.UNSET  # defstruct: this module's `from __future__ import annotations` would hide the types
    alpaca = msgspec.defstruct("Alpaca", [
        ("instruction", text), ("output", text), ("input", str | None, None), ("system", str | None, None),
        ("tools", str | None, None), ("history", list[tuple[str, str]] | None, None),
        ("id", Annotated[str, msgspec.Meta(min_length=1)] | msgspec.UnsetType, unset),
        ("meta", dict | msgspec.UnsetType, unset)])

    return msgspec, alpaca


def _draft7(schema: dict[str, Any]) -> dict[str, Any]:
    """The Alpaca schema for fastjsonschema (draft-07): `prefixItems` as the tuple form of `items`."""
    out = orjson.loads(orjson.dumps(schema))
    out["$schema"] = "http://json-schema.org/draft-07/schema#"
    items = out["properties"]["history"]["items"]
    items["items"] = items.pop("prefixItems")
    return out


def floor(n: int, seed: int, defect_rate: float, repeat: int, tmp: str) -> dict[str, Any]:
    """`validate` end to end against msgspec, fastjsonschema and jsonschema on one Alpaca JSONL file."""
    import fastjsonschema

    from datacraft.validate import validate_files

    msgspec, Alpaca = _msgspec_alpaca()
    records = corpus("alpaca", n, seed, defect_rate)
    path = os.path.join(tmp, f"alpaca_{n}_{defect_rate}.jsonl")
    with open(path, "wb") as handle:
        for rec in records:
            handle.write(orjson.dumps(rec) + b"\n")
    schema = load_schema("alpaca")[1]
    compiled = fastjsonschema.compile(_draft7(schema))
    validator = Draft202012Validator(schema)
    decoder = msgspec.json.Decoder(Alpaca)
    errors = (msgspec.ValidationError, msgspec.DecodeError)

    def ms_lines() -> list[bool]:
        out = []
        with open(path, "rb") as fh:
            for line in fh:
                try:
                    decoder.decode(line)
                    out.append(True)
                except errors:
                    out.append(False)
        return out

    def ms_blocks() -> int:  # valid records, or the first invalid block's records counted one by one
        bad = 0
        with open(path, "rb") as fh:
            data = fh.read()
        start = 0
        while start < len(data):
            cut = data.rfind(b"\n", start, start + (1 << 20)) + 1 or len(data)
            if cut <= start:
                cut = len(data)
            try:
                decoder.decode_lines(data[start:cut])
            except errors:
                for line in data[start:cut].splitlines():
                    try:
                        decoder.decode(line)
                    except errors:
                        bad += 1
            start = cut
        return bad

    def fjs() -> int:
        bad = 0
        with open(path, "rb") as fh:
            for line in fh:
                try:
                    compiled(orjson.loads(line))
                except fastjsonschema.JsonSchemaException:
                    bad += 1
        return bad

    def js() -> int:
        with open(path, "rb") as fh:
            return sum(not validator.is_valid(orjson.loads(line)) for line in fh)

    runner = CliRunner()
    cli_cmd = [sys.executable, "-c", "from datacraft.cli import cli; cli()", "validate", path, "--schema", "alpaca"]
    assert Path(sys.modules["datacraft"].__file__).parent.parent == ROOT, "timing another checkout's datacraft"
    ms_cmd = [sys.executable, "-c", _MSGSPEC_SCRIPT, path]
    t, out = best({
        "msgspec typed decode, per line": ms_lines,
        "msgspec decode_lines, 1 MB blocks": ms_blocks,
        "fastjsonschema (compiled) + orjson": fjs,
        "jsonschema is_valid + orjson": js,
        "datacraft validate_files": lambda: validate_files([path], schema="alpaca"),
        "datacraft validate (CLI, --schema alpaca)": lambda: runner.invoke(cli, ["validate", path, "--schema", "alpaca"]),
        "[fresh interpreter] python -c pass": lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
        "[fresh interpreter] msgspec typed decode, per line": lambda: subprocess.run(ms_cmd, capture_output=True),
        "[fresh interpreter] datacraft validate CLI": lambda: subprocess.run(cli_cmd, capture_output=True, cwd=ROOT),
    }, repeat)
    checker = Checker("alpaca")
    mine = [not checker(r) for r in records]
    verdicts = {"msgspec typed decode, per line": out["msgspec typed decode, per line"].count(False),
                "msgspec decode_lines, 1 MB blocks": out["msgspec decode_lines, 1 MB blocks"],
                "fastjsonschema (compiled) + orjson": out["fastjsonschema (compiled) + orjson"],
                "jsonschema is_valid + orjson": out["jsonschema is_valid + orjson"],
                "datacraft validate_files": out["datacraft validate_files"].invalid,
                "[fresh interpreter] msgspec typed decode, per line":
                    int(out["[fresh interpreter] msgspec typed decode, per line"].stdout)}
    return {"n": n, "defect_rate": defect_rate, "mb": os.path.getsize(path) / 1e6, "cpu": t, "invalid": verdicts,
            "per_record_same": mine == out["msgspec typed decode, per line"],
            "cli": out["datacraft validate (CLI, --schema alpaca)"].output.strip().splitlines()[-1]}


def floor_report(rows: list[dict[str, Any]]) -> str:
    out = [f"Machine: {machine()}; CPU seconds of this process, best of the interleaved rounds; load average "
           f"{os.getloadavg()[0]:.1f} at the end (shared machine)", ""]
    for r in rows:
        base = r["cpu"]["msgspec typed decode, per line"]
        fresh = r["cpu"]["[fresh interpreter] msgspec typed decode, per line"]  # like with like: start-up included
        out += [f"{r['n']:,} Alpaca records ({r['mb']:.0f} MB), {r['defect_rate']:.0%} with a planted defect; "
                f"the CLI said `{r['cli']}`; per-record verdicts msgspec = datacraft: {r['per_record_same']}", "",
                "| reader + checker | CPU s | x msgspec per line (fresh: x msgspec in a fresh interpreter) "
                "| invalid records found |", "|---|---|---|---|"]
        for name, sec in sorted(r["cpu"].items(), key=lambda kv: (kv[0].startswith("[fresh"), kv[1])):
            found = r["invalid"].get(name, "(CLI)")
            out.append(f"| {name} | {sec:.3f} | {sec / (fresh if name.startswith('[fresh') else base):.2f}x | {found} |")
        out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="synthetic records per schema")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="best of this many interleaved rounds")
    parser.add_argument("--schemas", default="alpaca,sharegpt,openai")
    parser.add_argument("--real", action="append", default=[], metavar="SCHEMA=PATH",
                        help="also measure a real file, e.g. alpaca=../shared/data/llamafactory/alpaca_zh_demo.json")
    parser.add_argument("--markdown", action="store_true", help="print the docs/benchmarks.md tables")
    parser.add_argument("--floor", type=int, default=0, metavar="N",
                        help="only the issue-14 floor: validate vs msgspec/fastjsonschema/jsonschema on N Alpaca records")
    parser.add_argument("--defects", default="0,0.33", help="defect rates for --floor, comma-separated")
    args = parser.parse_args()
    if args.floor:
        with tempfile.TemporaryDirectory() as tmp:
            rows = [floor(args.floor, args.seed, float(d), args.repeat, tmp) for d in args.defects.split(",")]
        print(floor_report(rows))
        bad = [r for r in rows if len(set(r["invalid"].values())) > 1 or not r["per_record_same"]]
        for r in bad:
            print(f"VERDICT MISMATCH at defect rate {r['defect_rate']}: {r['invalid']}", file=sys.stderr)
        return 1 if bad else 0
    with tempfile.TemporaryDirectory() as tmp:
        rows = [synthetic(s, args.n, args.seed, args.repeat, tmp) for s in args.schemas.split(",") if s]
    rows += [real(spec, args.repeat) for spec in args.real]
    print(report(rows, args.markdown))
    bad = [r for r in rows if r["mismatches"]]
    for r in bad:
        print(f"VERDICT MISMATCH {r['label']}: records {r['mismatches'][:10]}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
