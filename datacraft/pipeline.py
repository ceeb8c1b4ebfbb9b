"""`datacraft run pipeline.yaml`: a batch job chaining read -> clean -> dedupe -> validate -> export.

Every stage writes its output and rejects under `output_dir`, and `manifest.json` records the
inputs (with hashes), the config, package versions, per-stage counts and timings. On rerun a stage
is skipped when its fingerprint (stage settings + hash of what it reads + datacraft version) and
its outputs on disk are unchanged, so a crash or Ctrl-C resumes at the stage it stopped in.
"""

from __future__ import annotations

import hashlib
import importlib
import json
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


def run_pipeline(config_path: str, *, force: bool = False,
                 progress: Callable[[str], None] | None = None, executor: Any = None) -> dict[str, Any]:
    """Run (or resume) a pipeline file; returns the manifest it wrote.

    `executor` runs the stages (`datacraft.executors`: local, the default, or ray); it must be entered.
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
    current: Path | None = None
    input_hashes = [i["sha256"] for i in inputs]
    for number, (kind, settings) in enumerate(stages, start=1):
        label = f"{number:02d}_{kind}"
        fingerprint = _fingerprint(kind, settings, input_hashes)
        entry: dict[str, Any] = {"stage": kind, "label": label, "settings": settings, "fingerprint": fingerprint}
        old = previous.get(label)
        if old and old.get("fingerprint") == fingerprint and _outputs_intact(out_dir, old.get("outputs", {})):
            entry.update({k: old[k] for k in ("outputs", "counts", "seconds", "cpu_seconds") if k in old}, skipped=True)
            say(f"{label}: unchanged, skipped")
        else:
            started, cpu = time.perf_counter(), time.process_time()
            counts, outputs = runner.run_stage(kind, settings, config, base, out_dir, label, current, config_path)
            # CPU time as well as wall: on a shared machine wall time says little. It is this process's
            # CPU (all its threads); work done in other processes (Ray workers) is not in it.
            entry.update(counts=counts, seconds=round(time.perf_counter() - started, 3),
                         cpu_seconds=round(time.process_time() - cpu, 3), skipped=False,
                         outputs={name: {"path": p, "sha256": file_sha256(out_dir / p)} for name, p in outputs.items()})
            say(f"{label}: done in {entry['seconds']:.2f}s ({entry['cpu_seconds']:.2f}s CPU)")
        manifest["stages"].append(entry)
        manifest["executor"] = runner.describe()
        if REGISTRY[kind].makes_records:
            current = out_dir / entry["outputs"]["records"]["path"]
            input_hashes = [entry["outputs"]["records"]["sha256"]]
        _write_manifest(manifest_path, manifest)
        if REGISTRY[kind].makes_records and number < len(stages) and not (entry.get("counts") or {}).get("kept", 1):
            rejects_file = entry["outputs"].get("rejects", {}).get("path", "")
            raise NothingLeft(f"{config_path}: stage {label} kept no records (see {out_dir / rejects_file}); "
                              "nothing is left for the stages after it")
    manifest["finished_at"] = _now()
    manifest["totals"] = _totals(manifest["stages"])
    _write_manifest(manifest_path, manifest)
    return manifest


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
