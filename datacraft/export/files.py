"""`export_dataset`: convert, check, split without leaks, and write files LLaMA-Factory loads as is."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from datacraft.errors import ConfigError, DatacraftError
from datacraft.export.dataset_info import (
    FILE_NAME,
    OPTIONAL_COLUMNS,
    dataset_entry,
    merge_dataset_info,
    read_dataset_info,
)
from datacraft.export.formats import OUTPUT_FORMATS, chat_text, convert
from datacraft.export.split import Clusterer, assign_split, group_records, validation_target
from datacraft.io.writers import write_records
from datacraft.records import Record
from datacraft.runner import check_paths, read_inputs
from datacraft.stages import Ledger, Reject, RejectSink, map_stage
from datacraft.textutil import language
from datacraft.validate import validate_record

FILE_FORMATS = ("jsonl", "json")
# Column order in the written files, per format; optional columns appear only when mapped.
_ANSWERS = ("chosen", "rejected", "kto_tag")
FIELD_ORDER = {"alpaca": ("instruction", "input", "output", "system", "history", "tools", *_ANSWERS),
               "sharegpt": ("conversations", "system", "tools", *_ANSWERS), "openai": ("messages", *_ANSWERS)}
EMPTY = {"system": "", "history": [], "tools": ""}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class NothingToExport(DatacraftError):
    """No record survived: nothing is written and dataset_info.json is left alone (exit 1)."""

    exit_code = 1

    def __init__(self, counts: dict):
        self.counts = counts
        reasons = ", ".join(f"{r} {n}" for r, n in counts["reasons"].items()) or "the input holds no records"
        super().__init__(f"export: no record to export out of {counts['read']} read ({reasons}); "
                         "nothing written, dataset_info.json unchanged")


def output_issues(fields: Record, fmt: str) -> list[tuple[str, str]]:
    """Why a converted record would not train as `fmt` (datacraft.validate): [(kind, detail)]."""
    schema = "auto" if "chosen" in fields else fmt  # preference records: LLaMA-Factory's ranking rules
    return [(i.kind, f"{i.field}: {i.message}" if i.field else i.message) for i in validate_record(fields, schema)]


def _prepare(fmt: str):
    def prepare(record: Record) -> Record:
        fields = convert(record, fmt)
        issues = output_issues(fields, fmt)
        if issues:
            raise Reject(*issues[0])
        return {"fields": fields, "id": record.get("id"), "meta": record.get("meta")}

    return prepare


def _check_options(fmt: str, file_format: str, name: str, val_size: float) -> None:
    if fmt not in OUTPUT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose {', '.join(OUTPUT_FORMATS)}")
    if file_format not in FILE_FORMATS:
        raise ConfigError(f"unknown file format {file_format!r}; choose jsonl or json")
    if not _NAME.match(name):
        raise ConfigError(f"bad --name {name!r}: use letters, digits, '_', '-' or '.' (it names files and dataset entries)")
    validation_target(0, val_size)  # raises on a bad size before any work


def _fill_columns(items: list[Record], fmt: str) -> set[str]:
    """Map an optional column when any record has it, and then give it to every record."""
    optional = OPTIONAL_COLUMNS[fmt]
    present = {c for c in optional if any(item["fields"].get(c) for item in items)}
    for column in _ANSWERS[::2]:  # chosen (with rejected), kto_tag: every record has them or none does
        having = sum(column in item["fields"] for item in items)
        if 0 < having < len(items):
            raise ConfigError(f"{having} of {len(items)} records have `{column}`: LLaMA-Factory reads a file as "
                              "preference (or KTO) data or not at all; export them separately")
        if having:
            present.add(column)
    for item in items:
        fields = item["fields"]
        item["fields"] = {k: (fields.get(k) or EMPTY[k]) if k in optional else fields[k]
                          for k in FIELD_ORDER[fmt] if k in present or (k not in optional and k in fields)}
    if "chosen" in present:
        present.add("rejected")
    return present


def _split(items: list[Record], val_size: float, seed: int, group_duplicates: bool, stratify: bool,
           cluster: Clusterer | None) -> tuple[list[int], list[bool]]:
    """Group related records, then pick whole groups for validation."""
    texts = [chat_text(item["fields"]) for item in items]
    if group_duplicates and cluster is None and items:
        from datacraft.dedupe import near_duplicate_clusters

        cluster = near_duplicate_clusters
    groups = group_records(items, texts if group_duplicates else None, cluster if group_duplicates else None)
    strata = [language(t) for t in texts] if stratify else None
    return groups, assign_split(groups, val_size, seed, strata)


def export_dataset(inputs: list[str], out_dir: str, *, fmt: str = "alpaca", val_size: float = 0.1,
                   seed: int = 42, name: str = "datacraft", file_format: str = "jsonl",
                   group_near_duplicates: bool = True, read_options: dict | None = None,
                   stratify: bool = True, cluster: Clusterer | None = None, strict: bool = False,
                   transform: Callable[[Record], Record] | None = None) -> dict:
    """Write train/validation files in `fmt`, a provenance sidecar, rejects and `dataset_info.json`.

    Records that do not convert or check are rejected (stage "export"). Related records
    (duplicates and near-duplicates, same source document, augmented copies) never straddle the
    split. `cluster` replaces `dedupe.near_duplicate_clusters` (texts -> label per text).
    """
    _check_options(fmt, file_format, name, val_size)
    out = Path(out_dir)
    paths = {split: str(out / f"{name}_{split}.{file_format}") for split in ("train", "validation")}
    side = {"provenance": str(out / f"{name}_provenance.jsonl"), "rejects": str(out / f"{name}_rejects.jsonl"),
            "dataset_info": str(out / FILE_NAME)}
    check_paths(inputs, {"output": paths["train"], "validation output": paths["validation"]},
                folders={"--out-dir": out_dir})
    read_dataset_info(side["dataset_info"])  # a broken registry stops us before anything is written

    ledger = Ledger(RejectSink(side["rejects"]))
    with ledger.rejects:
        stream = read_inputs(inputs, ledger, read_options, strict=strict, desc="export")
        stream = map(transform, stream) if transform else stream  # e.g. a dataset-wide system prompt
        items = list(map_stage("export", _prepare(fmt), ledger)(stream))
        if not items:
            raise NothingToExport(ledger.to_dict(0))
        present = _fill_columns(items, fmt)
        groups, in_validation = _split(items, val_size, seed, group_near_duplicates, stratify, cluster)

    rows: dict[str, list[Record]] = {"train": [], "validation": []}
    provenance: list[Record] = []
    for item, is_val in zip(items, in_validation, strict=True):
        split = "validation" if is_val else "train"
        provenance.append({"id": item["id"], "split": split, "index": len(rows[split]), "meta": item["meta"]})
        rows[split].append(item["fields"])
    notes = _write(rows, provenance, paths, side, fmt, file_format, present, name)
    if not rows["validation"] and val_size > 0 and items:
        notes.append("validation is empty: no group was small enough to move without emptying training")

    sizes = Counter(groups)
    result = ledger.to_dict(len(items))
    result.update({
        "format": fmt, "train": len(rows["train"]), "validation": len(rows["validation"]),
        "groups": len(sizes), "grouped_records": sum(n for n in sizes.values() if n > 1),
        "largest_group": max(sizes.values(), default=0), "columns": sorted(present),
        "datasets": [f"{name}_{split}" for split in ("train", "validation") if split == "train" or rows[split]],
        "notes": notes,
        "files": {"train": paths["train"], **({"validation": paths["validation"]} if rows["validation"] else {}), **side},
    })
    return result


def _write(rows: dict[str, list[Record]], provenance: list[Record], paths: dict[str, str], side: dict[str, str],
           fmt: str, file_format: str, present: set[str], name: str) -> list[str]:
    """Write the split files and the sidecar, then the registry (last, so it never names a missing file)."""
    notes: list[str] = []
    write_records(paths["train"], rows["train"], fmt=file_format)
    if rows["validation"]:
        write_records(paths["validation"], rows["validation"], fmt=file_format)
    elif os.path.exists(paths["validation"]):
        os.unlink(paths["validation"])  # a stale split from an earlier run could hold training records
        notes.append(f"removed stale {paths['validation']}")
    write_records(side["provenance"], provenance, fmt="jsonl")
    entries = {f"{name}_{split}": dataset_entry(Path(paths[split]).name, fmt, present)
               for split in ("train", "validation") if split == "train" or rows[split]}
    merge_dataset_info(side["dataset_info"], entries, remove=() if rows["validation"] else (f"{name}_validation",))
    return notes
