"""`datacraft run pipeline.yaml`: a batch job chaining read -> clean -> dedupe -> validate -> export.

Every stage writes its output and rejects under `output_dir`, and `manifest.json` records the
inputs (with hashes), the config, package versions, per-stage counts and timings. On rerun a stage
is skipped when its fingerprint (stage settings + hash of what it reads + datacraft version) and
its outputs on disk are unchanged, so a crash or Ctrl-C resumes at the stage it stopped in.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from datacraft import __version__
from datacraft.config import validate_section
from datacraft.errors import ConfigError, NothingLeft
from datacraft.io.writers import atomic_write
from datacraft.stages import Ledger, RejectSink, filter_stage, read_stage

STAGE_KINDS = ("read", "clean", "dedupe", "validate", "export", "stats")
# Stages that produce a record file the next stage reads.
_RECORD_STAGES = {"read", "clean", "dedupe", "validate"}


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
    """Read and check a pipeline file; returns the config and its (kind, settings) stage list."""
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
        if kind not in STAGE_KINDS:
            raise ConfigError(f"{path}: stages[{index}]: unknown stage '{kind}'; choose {', '.join(STAGE_KINDS)}")
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


# ---- stage runners: each returns (counts dict, outputs {label: path}) ----------------------------

def _run_read(inputs: list[InputSpec], base: Path, out: Path, rejects: Path) -> dict[str, Any]:
    from datacraft.io.writers import JsonlWriter

    with RejectSink(str(rejects)) as sink:
        ledger = Ledger(sink)
        with JsonlWriter(out) as writer:
            for spec in inputs:
                options = {"fmt": spec.format, "encoding": spec.encoding, "mapping": spec.map, "split": spec.split}
                for record in read_stage([str(base / spec.path)], ledger, **options):
                    writer.write(record)
    return ledger.to_dict(writer.count)


def _run_clean(settings: dict[str, Any], source: Path, out: Path, rejects: Path) -> dict[str, Any]:
    from datacraft.clean import CleanConfig, clean_file

    config = validate_section(CleanConfig, {"dedupe": None, **settings}, "clean stage")
    return clean_file([str(source)], str(out), rejects=str(rejects), config=config)


def _run_dedupe(settings: dict[str, Any], source: Path, out: Path, rejects: Path, base: Path) -> dict[str, Any]:
    from datacraft.dedupe import DedupeConfig, dedupe_file

    settings = dict(settings)
    against = [str(base / p) for p in settings.pop("against", [])]
    config = validate_section(DedupeConfig, settings, "dedupe stage")
    return dedupe_file([str(source)], str(out), rejects=str(rejects), config=config, against=against)


def _run_validate(settings: dict[str, Any], source: Path, out: Path, rejects: Path) -> dict[str, Any]:
    """Keep valid records, reject the others with the first problem found as the reason."""
    from datacraft.io.writers import JsonlWriter
    from datacraft.validate import validate_record

    unknown = set(settings) - {"schema", "strict"}
    if unknown:
        raise ConfigError(f"validate stage: unknown key '{sorted(unknown)[0]}'")
    schema, strict = settings.get("schema", "alpaca"), bool(settings.get("strict", False))

    def valid(record: dict[str, Any]) -> Any:
        issues = validate_record(record, schema=schema, strict=strict)
        if not issues:
            return True
        first = issues[0]
        return False, first.kind, f"{first.field}: {first.message}"

    with RejectSink(str(rejects)) as sink:
        ledger = Ledger(sink)
        stage = filter_stage("validate", valid, ledger)
        with JsonlWriter(out) as writer:
            for record in stage(read_stage([str(source)], ledger, assign_ids=False)):
                writer.write(record)
    counts = ledger.to_dict(writer.count)
    counts["stages"].pop("read", None)
    return counts


def _run_export(settings: dict[str, Any], source: Path, out_dir: Path, name: str) -> dict[str, Any]:
    from datacraft.export import export_dataset

    options = {"name": name, **settings}
    if "format" in options:
        options["fmt"] = options.pop("format")
    try:
        return export_dataset([str(source)], str(out_dir), **options)
    except TypeError as exc:
        raise ConfigError(f"export stage: {exc}") from None


def _run_stats(settings: dict[str, Any], source: Path, stage_dir: Path) -> dict[str, Any]:
    from datacraft.stats import compute_stats, write_html_report

    stats = compute_stats([str(source)], tokenizer=settings.get("tokenizer"))
    with atomic_write(stage_dir / "stats.json", "w", encoding="utf-8") as handle:
        json.dump(stats, handle, ensure_ascii=False, indent=2)
    if settings.get("html"):
        write_html_report(stats, str(stage_dir / settings["html"]))
    return {"records": stats.get("records")}


def run_pipeline(config_path: str, *, force: bool = False,
                 progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run (or resume) a pipeline file; returns the manifest it wrote."""
    config, stages = load_pipeline(config_path)
    base = Path(config_path).resolve().parent
    out_dir = (base / config.output_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    previous = _load_previous(manifest_path) if not force else {}
    say = progress or (lambda _msg: None)

    inputs = []
    for spec in config.inputs:
        path = base / spec.path
        if not path.exists():
            raise ConfigError(f"{config_path}: input {spec.path} not found (looked in {base})")
        inputs.append({"path": spec.path, "sha256": file_sha256(path), "bytes": _size(path)})

    manifest: dict[str, Any] = {
        "name": config.name, "config_file": str(Path(config_path)), "config": config.model_dump(),
        "versions": _versions(), "started_at": _now(), "inputs": inputs, "stages": []}
    current: Path | None = None
    input_hashes = [i["sha256"] for i in inputs]
    for number, (kind, settings) in enumerate(stages, start=1):
        label = f"{number:02d}_{kind}"
        fingerprint = _fingerprint(kind, settings, input_hashes)
        entry: dict[str, Any] = {"stage": kind, "label": label, "settings": settings, "fingerprint": fingerprint}
        old = previous.get(label)
        if old and old.get("fingerprint") == fingerprint and _outputs_intact(out_dir, old.get("outputs", {})):
            entry.update({k: old[k] for k in ("outputs", "counts", "seconds")}, skipped=True)
            say(f"{label}: unchanged, skipped")
        else:
            started = time.perf_counter()
            counts, outputs = _run_stage(kind, settings, config, base, out_dir, label, current)
            entry.update(counts=counts, seconds=round(time.perf_counter() - started, 3), skipped=False,
                         outputs={name: {"path": p, "sha256": file_sha256(out_dir / p)} for name, p in outputs.items()})
            say(f"{label}: done in {entry['seconds']:.2f}s")
        manifest["stages"].append(entry)
        if kind in _RECORD_STAGES:
            current = out_dir / entry["outputs"]["records"]["path"]
            input_hashes = [entry["outputs"]["records"]["sha256"]]
        _write_manifest(manifest_path, manifest)
        if kind in _RECORD_STAGES and number < len(stages) and not (entry.get("counts") or {}).get("kept", 1):
            rejects_file = entry["outputs"].get("rejects", {}).get("path", "")
            raise NothingLeft(f"{config_path}: stage {label} kept no records (see {out_dir / rejects_file}); "
                              "nothing is left for the stages after it")
    manifest["finished_at"] = _now()
    manifest["totals"] = _totals(manifest["stages"])
    _write_manifest(manifest_path, manifest)
    return manifest


def _run_stage(kind: str, settings: dict[str, Any], config: PipelineConfig, base: Path, out_dir: Path,
               label: str, current: Path | None) -> tuple[dict[str, Any], dict[str, str]]:
    records, rejects = f"{label}.jsonl", f"{label}.rejects.jsonl"
    if kind == "read":
        return _run_read(config.inputs, base, out_dir / records, out_dir / rejects), {"records": records, "rejects": rejects}
    assert current is not None
    if kind == "clean":
        counts = _run_clean(settings, current, out_dir / records, out_dir / rejects)
    elif kind == "dedupe":
        counts = _run_dedupe(settings, current, out_dir / records, out_dir / rejects, base)
    elif kind == "validate":
        counts = _run_validate(settings, current, out_dir / records, out_dir / rejects)
    elif kind == "export":
        counts = _run_export(settings, current, out_dir / label, settings.get("name", config.name))
        return counts, {f: f"{label}/{f}" for f in sorted(p.name for p in (out_dir / label).iterdir())}
    else:
        (out_dir / label).mkdir(exist_ok=True)
        counts = _run_stats(settings, current, out_dir / label)
        return counts, {f: f"{label}/{f}" for f in sorted(p.name for p in (out_dir / label).iterdir())}
    return counts, {"records": records, "rejects": rejects}


def _totals(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """Whole-run accounting: every record read is either kept by the last record stage or rejected once."""
    record_stages = [s for s in stages if s["stage"] in _RECORD_STAGES]
    read = record_stages[0]["counts"]["read"]
    kept = record_stages[-1]["counts"]["kept"]
    rejected = sum(s["counts"]["rejected"] for s in record_stages)
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
