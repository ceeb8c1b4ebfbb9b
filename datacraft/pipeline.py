"""`datacraft run pipeline.yaml`: a batch job chaining read -> clean -> dedupe -> validate -> export.

Every stage writes its output and rejects under `output_dir`, and `manifest.json` records the
inputs (with hashes), the config, package versions, per-stage counts and timings. On rerun a stage
is skipped when its fingerprint (stage settings + hash of what it reads + datacraft version) and
its outputs on disk are unchanged, so a crash or Ctrl-C resumes at the stage it stopped in.

On the local executor, consecutive record stages that all run are fused into one stream
(`datacraft.fusion`): each still writes its own output and rejects, byte for byte as when run
alone, but the next stage takes the records in memory instead of parsing that file again. Each
stage's files are renamed into place, and its manifest entry written, as soon as its input is
exhausted. DATACRAFT_FUSE=0 (or `run_pipeline(fuse=False)`) runs them one at a time.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from datacraft import __version__
from datacraft.config import validate_section
from datacraft.errors import ConfigError, NothingLeft
from datacraft.executors.local import LocalExecutor
from datacraft.fusion import StreamPart, run_stream
from datacraft.io.writers import atomic_write
from datacraft.registry import REGISTRY, STAGE_KINDS, check_stage
from datacraft.runner import check_paths, run_stages
from datacraft.stages import Ledger, read_stage


class InputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    format: str | None = None  # default: from the file name
    encoding: str | None = None  # default: detected
    map: dict[str, str] = Field(default_factory=dict)  # Alpaca field -> source column
    split: str | None = None  # for `datasets` folders


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "datacraft"
    output_dir: str = "out"  # relative to the config file
    inputs: list[InputSpec] = Field(min_length=1)
    stages: list[str | dict[str, dict[str, Any] | None]] = Field(min_length=1)


def load_pipeline(path: str) -> tuple[PipelineConfig, list[tuple[str, dict[str, Any]]]]:
    """Read and check a pipeline file, every stage's settings included, before any work starts.

    Returns the config and its (kind, settings) stage list; a bad key is a ConfigError naming
    the file, the stage and the key.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{path}: pipeline file not found")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise ConfigError(f"{path}:{line + 1 if line is not None else '?'}: invalid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with `inputs` and `stages`")
    config = validate_section(PipelineConfig, raw, path)
    stages: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(config.stages, start=1):
        if isinstance(entry, str):
            kind, settings = entry, {}
        elif len(entry) == 1:
            kind, settings = next(iter(entry.items()))
            settings = settings or {}
        else:
            raise ConfigError(f"{path}: stages[{index}]: one stage per list item, got {', '.join(entry)}")
        if kind not in REGISTRY:
            raise ConfigError(f"{path}: stages[{index}]: unknown stage '{kind}'; choose {', '.join(STAGE_KINDS)}")
        check_stage(kind, settings, str(path))
        stages.append((kind, settings))
    if stages[0][0] != "read":
        stages.insert(0, ("read", {}))
    return config, stages


def file_sha256(path: Path) -> str:
    """sha256 of a file, or of every file under a folder (a `datasets` save)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for item in files:
        with open(item, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _fingerprint(kind: str, settings: dict[str, Any], input_hashes: list[str]) -> str:
    blob = json.dumps({"kind": kind, "settings": settings, "inputs": input_hashes, "version": __version__},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _versions() -> dict[str, str]:
    names = ("datacraft", "pydantic", "orjson", "numpy", "ftfy", "rapidfuzz", "jsonschema", "datasets")
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    found["python"] = platform.python_version()
    return found


def _read_inputs(inputs: list[InputSpec], base: Path) -> Callable[[Ledger], Iterator[dict[str, Any]]]:
    """The read stage over every input, each with its own format, encoding and column map."""
    def read(ledger: Ledger) -> Iterator[dict[str, Any]]:
        for spec in inputs:
            options = {"fmt": spec.format, "encoding": spec.encoding, "mapping": spec.map, "split": spec.split}
            yield from read_stage([str(base / spec.path)], ledger, **options)

    return read


# Each stage's package, imported before the first record is read. A run lasts minutes to hours; a
# package imported lazily in the middle of it, from a checkout that changed meanwhile (a merge, a
# pull), mixes two versions of datacraft: the first 1M-record benchmark run stopped after dedupe
# with exit 1 that way (an ImportError: validate's new code needed names the loaded records module
# did not have yet).
_STAGE_PACKAGES = {"read": ("datacraft.io.readers",), "clean": ("datacraft.clean",), "dedupe": ("datacraft.dedupe",),
                   "validate": ("datacraft.validate",), "decontaminate": ("datacraft.decontam",),
                   "export": ("datacraft.export",), "stats": ("datacraft.stats", "datacraft.runner")}


def import_stage_code(kinds: list[str]) -> None:
    """Import the packages the given stages run, so that no stage imports code in mid-run."""
    for kind in kinds:
        for name in _STAGE_PACKAGES.get(kind, ()):
            importlib.import_module(name)


def run_pipeline(config_path: str, *, force: bool = False, progress: Callable[[str], None] | None = None,
                 executor: Any = None, fuse: bool | None = None) -> dict[str, Any]:
    """Run (or resume) a pipeline file; returns the manifest it wrote.

    `executor` runs the stages (`datacraft.executors`: local, the default, or ray); it must be entered.
    `fuse` (default: on, unless DATACRAFT_FUSE=0) runs consecutive record stages as one stream
    where the executor can (`fuses`); the files and manifest are the same either way.
    """
    config, stages = load_pipeline(config_path)
    import_stage_code([kind for kind, _ in stages])
    base = Path(config_path).resolve().parent
    out_dir = (base / config.output_dir).resolve()
    manifest_path = out_dir / "manifest.json"
    previous = _load_previous(manifest_path) if not force else {}
    say = progress or (lambda _msg: None)

    inputs = []
    for spec in config.inputs:
        path = base / spec.path
        if not path.exists():
            raise ConfigError(f"{config_path}: input {spec.path} not found (looked in {base})")
        inputs.append({"path": spec.path, "sha256": file_sha256(path), "bytes": _size(path)})
    check_paths([str(base / spec.path) for spec in config.inputs], folders={"output_dir": str(out_dir)})
    out_dir.mkdir(parents=True, exist_ok=True)

    manifest: dict[str, Any] = {
        "name": config.name, "config_file": str(Path(config_path)), "config": config.model_dump(),
        "versions": _versions(), "started_at": _now(), "inputs": inputs, "stages": []}
    runner = executor or LocalExecutor()
    fuse = fusion_enabled(fuse) and getattr(runner, "fuses", False)
    state: dict[str, Any] = {"current": None, "input_hashes": [i["sha256"] for i in inputs]}

    def finish(number: int, entry: dict[str, Any]) -> None:
        """Record a stage's entry; the next stage reads what it made. Called as soon as the stage is done."""
        kind = entry["stage"]
        manifest["stages"].append(entry)
        manifest["executor"] = runner.describe()
        if REGISTRY[kind].makes_records:
            state["current"] = out_dir / entry["outputs"]["records"]["path"]
            state["input_hashes"] = [entry["outputs"]["records"]["sha256"]]
        _write_manifest(manifest_path, manifest)
        if REGISTRY[kind].makes_records and number < len(stages) and not (entry.get("counts") or {}).get("kept", 1):
            rejects_file = entry["outputs"].get("rejects", {}).get("path", "")
            raise NothingLeft(f"{config_path}: stage {entry['label']} kept no records (see {out_dir / rejects_file}); "
                              "nothing is left for the stages after it")

    def ran(number: int, kind: str, settings: dict[str, Any], counts: dict[str, Any], outputs: dict[str, str],
            seconds: float, cpu_seconds: float) -> None:
        label = f"{number:02d}_{kind}"
        # CPU time as well as wall: on a shared machine wall time says little. It is this process's
        # CPU (all its threads); work done in other processes (Ray workers) is not in it.
        entry = {"stage": kind, "label": label, "settings": settings,
                 "fingerprint": _fingerprint(kind, settings, state["input_hashes"]), "counts": counts,
                 "seconds": seconds, "cpu_seconds": cpu_seconds, "skipped": False,
                 "outputs": {name: {"path": p, "sha256": file_sha256(out_dir / p)} for name, p in outputs.items()}}
        say(f"{label}: done in {seconds:.2f}s ({cpu_seconds:.2f}s CPU)")
        finish(number, entry)

    number = 1
    while number <= len(stages):
        kind, settings = stages[number - 1]
        label = f"{number:02d}_{kind}"
        fingerprint = _fingerprint(kind, settings, state["input_hashes"])
        old = previous.get(label)
        if old and old.get("fingerprint") == fingerprint and _outputs_intact(out_dir, old.get("outputs", {})):
            entry: dict[str, Any] = {"stage": kind, "label": label, "settings": settings, "fingerprint": fingerprint}
            entry.update({k: old[k] for k in ("outputs", "counts", "seconds", "cpu_seconds") if k in old}, skipped=True)
            say(f"{label}: unchanged, skipped")
            finish(number, entry)
            number += 1
            continue
        changed = not old or old.get("fingerprint") != fingerprint
        group = _fused_group(stages, number, previous, out_dir, changed=changed) if fuse and REGISTRY[kind].makes_records else 1
        if group > 1:
            members = [(n, *stages[n - 1]) for n in range(number, number + group)]

            def member_ran(index: int, *result: Any, members: list[Any] = members) -> None:
                ran(*members[index], *result)  # result: counts, outputs, seconds, cpu_seconds

            runner.run_stream([(k, s, f"{n:02d}_{k}") for n, k, s in members], config, base, out_dir,
                              state["current"], config_path, member_ran)
        else:
            started, cpu = time.perf_counter(), time.process_time()
            counts, outputs = runner.run_stage(kind, settings, config, base, out_dir, label, state["current"],
                                               config_path)
            ran(number, kind, settings, counts, outputs, round(time.perf_counter() - started, 3),
                round(time.process_time() - cpu, 3))
        number += group
    manifest["finished_at"] = _now()
    manifest["totals"] = _totals(manifest["stages"])
    _write_manifest(manifest_path, manifest)
    return manifest


def fusion_enabled(fuse: bool | None = None) -> bool:
    """Whether record stages are fused: `fuse` when given, else the environment (DATACRAFT_FUSE=0 turns it off)."""
    return fuse if fuse is not None else os.environ.get("DATACRAFT_FUSE", "1").strip() not in ("0", "false", "no", "off")


def _fused_group(stages: list[tuple[str, dict[str, Any]]], number: int, previous: dict[str, dict[str, Any]],
                 out_dir: Path, *, changed: bool) -> int:
    """How many record stages, from stage `number` (which runs), to run as one stream.

    A stage joins the stream only when it would run anyway, so fusion never runs a stage that an
    unfused run would skip: its settings changed or it has no outputs (with the previous run's input),
    its outputs are damaged, or the stage before it changed (its new records will differ). After a stage that
    only rebuilds a damaged output, the next stage may find the same records and be skipped: the stream ends there.
    """
    count = 1
    while number + count <= len(stages) and REGISTRY[stages[number + count - 1][0]].build is not None:
        kind, settings = stages[number + count - 1]
        label, before = f"{number + count:02d}_{kind}", f"{number + count - 1:02d}_{stages[number + count - 2][0]}"
        old = previous.get(label)
        upstream = previous.get(before, {}).get("outputs", {}).get("records", {}).get("sha256")
        if changed or not old or upstream is None or old.get("fingerprint") != _fingerprint(kind, settings, [upstream]):
            changed = True
        elif _outputs_intact(out_dir, old.get("outputs", {})):
            break
        count += 1
    return count


def run_fused_stages(members: list[tuple[str, dict[str, Any], str]], config: PipelineConfig, base: Path,
                     out_dir: Path, current: Path | None, config_path: str,
                     done: Callable[[int, dict[str, Any], dict[str, str], float, float], None]) -> None:
    """Run consecutive record stages (kind, settings, label) as one stream, each to its own files as `run_stage` would.

    `done(index, counts, outputs, seconds, cpu_seconds)` is called as each stage's files are in place.
    """
    parts = []
    for index, (kind, settings, label) in enumerate(members):
        model, spec = check_stage(kind, settings, config_path), REGISTRY[kind]
        if index:
            inputs = [str(out_dir / f"{members[index - 1][2]}.jsonl")]
        elif kind == "read":
            inputs = [str(base / s.path) for s in config.inputs]
        else:
            assert current is not None
            inputs = [str(current)]
        build = (lambda _ledger: []) if kind == "read" else (
            lambda ledger, spec=spec, model=model: spec.build(model, ledger, base))
        parts.append(StreamPart(kind, inputs, str(out_dir / f"{label}.jsonl"), str(out_dir / f"{label}.rejects.jsonl"),
                                build))
    head = members[0][0]
    source = (_read_inputs(config.inputs, base) if head == "read" else
              lambda ledger: read_stage(parts[0].inputs, ledger, assign_ids=False))

    def finished(index: int, counts: dict[str, Any], seconds: float, cpu_seconds: float) -> None:
        kind, _, label = members[index]
        if kind != "read":
            counts["stages"].pop("read", None)  # the previous stage's records: counted there
        done(index, counts, {"records": f"{label}.jsonl", "rejects": f"{label}.rejects.jsonl"}, seconds, cpu_seconds)

    run_stream(source, parts, finished)


def run_stage(kind: str, settings: dict[str, Any], config: PipelineConfig, base: Path, out_dir: Path,
               label: str, current: Path | None, config_path: str) -> tuple[dict[str, Any], dict[str, str]]:
    spec = REGISTRY[kind]
    model = check_stage(kind, settings, config_path)
    records, rejects = f"{label}.jsonl", f"{label}.rejects.jsonl"
    if kind == "read":
        counts = run_stages([str(base / s.path) for s in config.inputs], str(out_dir / records), lambda _: [],
                            rejects=str(out_dir / rejects), source=_read_inputs(config.inputs, base), desc="read")
        counts.pop("seconds", None)
        return counts, {"records": records, "rejects": rejects}
    assert current is not None
    if spec.build is not None:
        counts = run_stages([str(current)], str(out_dir / records), lambda ledger: spec.build(model, ledger, base),
                            rejects=str(out_dir / rejects), assign_ids=False, desc=kind)
        counts.pop("seconds", None)
        counts["stages"].pop("read", None)  # the previous stage's file: its rows were counted there
        return counts, {"records": records, "rejects": rejects}
    assert spec.write is not None
    stage_dir = out_dir / label
    counts = spec.write(model, current, stage_dir, config.name)
    return counts, {f: f"{label}/{f}" for f in sorted(p.name for p in stage_dir.iterdir())}


def _totals(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """Whole-run accounting: every record read is kept by the last stage that counts records, or rejected once.

    Export counts too: a record it cannot convert is rejected there, and `kept` is what it wrote.
    """
    counted = [s for s in stages if REGISTRY[s["stage"]].makes_records or s["stage"] == "export"]
    read = counted[0]["counts"]["read"]
    kept = counted[-1]["counts"]["kept"]
    rejected = sum(s["counts"]["rejected"] for s in counted)
    return {"read": read, "kept": kept, "rejected": rejected, "balanced": read == kept + rejected}


def _load_previous(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {s["label"]: s for s in data.get("stages", []) if "outputs" in s}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _outputs_intact(out_dir: Path, outputs: dict[str, Any]) -> bool:
    if not outputs:
        return False
    for item in outputs.values():
        path = out_dir / item["path"]
        if not path.exists() or file_sha256(path) != item["sha256"]:
            return False
    return True


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
