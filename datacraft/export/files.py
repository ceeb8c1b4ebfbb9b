"""`export_dataset`: convert, check, split without leaks, and write files LLaMA-Factory loads as is."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
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
from datacraft.export.split import (
    Clusterer,
    Grouper,
    assign_split,
    dedupe_group,
    link_duplicates,
    validation_target,
)
from datacraft.io.writers import JsonlWriter, write_records
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


def _fill(fields: Record, fmt: str, present: set[str]) -> Record:
    """Columns in FIELD_ORDER; an optional column mapped anywhere is given to every record."""
    optional = OPTIONAL_COLUMNS[fmt]
    return {k: (fields.get(k) or EMPTY[k]) if k in optional else fields[k]
            for k in FIELD_ORDER[fmt] if k in present or (k not in optional and k in fields)}


class _Scan:
    """The first pass over the converted records: groups, strata and columns, records spooled to disk.

    Memory holds a few ints per record (the group table) and a language tag, never the records:
    they wait in a spool and are written out in the second pass.
    """

    def __init__(self, fmt: str, group_duplicates: bool, stratify: bool, cluster: Clusterer | None):
        from datacraft.dedupe import DedupeConfig
        from datacraft.dedupe.stage import Spool

        self.fmt, self.group_duplicates, self.stratify, self.cluster = fmt, group_duplicates, stratify, cluster
        default = DedupeConfig()
        # Dedupe's clusters stand in for export's own only when export would cluster as dedupe did.
        self.reuse = group_duplicates and cluster is None
        self.threshold, self.fields = default.threshold or 0.0, default.fields
        self.grouper = Grouper()
        self.spool = Spool()
        self.strata: list[str] = []
        self.present: set[str] = set()  # optional and answer columns, for dataset_info
        self.fill: set[str] = set()  # the columns each written record gets (present, less `rejected`)
        self.answers: Counter[str] = Counter()
        self.count = 0

    def add(self, item: Record) -> None:
        fields = item["fields"]
        i = self.grouper.add(item)
        self.present.update(c for c in OPTIONAL_COLUMNS[self.fmt] if fields.get(c))
        self.answers.update(c for c in _ANSWERS[::2] if c in fields)
        if self.stratify:
            self.strata.append(language(chat_text(fields)))
        if self.reuse:
            group = dedupe_group(item, self.threshold, self.fields)
            if group is None:
                self.reuse = False
            else:
                # The group is the surviving record's id: an "id" key, like augmented_from, so that a
                # survivor (group = its own id) adds no entry to the table.
                self.grouper.link(("id", group), i)
        self.spool.append(item)
        self.count += 1

    def check_answers(self) -> None:
        """Preference (chosen/rejected) and KTO columns: every record has them or none does."""
        for column in _ANSWERS[::2]:
            having = self.answers[column]
            if 0 < having < self.count:
                raise ConfigError(f"{having} of {self.count} records have `{column}`: LLaMA-Factory reads a file as "
                                  "preference (or KTO) data or not at all; export them separately")
            if having:
                self.present.add(column)
        self.fill = set(self.present)
        if "chosen" in self.present:
            self.present.add("rejected")

    def groups(self) -> tuple[list[int], bool]:
        """Group label per record, and whether dedupe's clusters were reused."""
        if self.group_duplicates and not self.reuse and self.count:
            from datacraft.dedupe import near_duplicate_clusters

            texts = [chat_text(item["fields"]) for item in self.spool]
            link_duplicates(self.grouper, texts, self.cluster or near_duplicate_clusters)
        return self.grouper.labels(), self.reuse and self.count > 0


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
    scan = _Scan(fmt, group_near_duplicates, stratify, cluster)
    try:
        with ledger.rejects:
            stream = read_inputs(inputs, ledger, read_options, strict=strict, desc="export")
            stream = map(transform, stream) if transform else stream  # e.g. a dataset-wide system prompt
            for item in map_stage("export", _prepare(fmt), ledger)(stream):
                scan.add(item)
            if not scan.count:
                raise NothingToExport(ledger.to_dict(0))
            scan.check_answers()
            groups, reused = scan.groups()
            in_validation = assign_split(groups, val_size, seed, scan.strata if stratify else None)
        counts = {"train": in_validation.count(False), "validation": in_validation.count(True)}
        notes = _write(scan, in_validation, counts, paths, side, fmt, file_format, name)
    finally:
        scan.spool.close()
    if not counts["validation"] and val_size > 0 and scan.count:
        notes.append("validation is empty: no group was small enough to move without emptying training")

    sizes = Counter(groups)
    result = ledger.to_dict(scan.count)
    result.update({
        "format": fmt, "train": counts["train"], "validation": counts["validation"],
        "groups": len(sizes), "grouped_records": sum(n for n in sizes.values() if n > 1),
        "largest_group": max(sizes.values(), default=0), "columns": sorted(scan.present),
        "near_duplicates_from": "dedupe" if reused else "export" if group_near_duplicates else "off",
        "datasets": [f"{name}_{split}" for split in ("train", "validation") if split == "train" or counts[split]],
        "notes": notes,
        "files": {"train": paths["train"], **({"validation": paths["validation"]} if counts["validation"] else {}), **side},
    })
    return result


def _write(scan: _Scan, in_validation: list[bool], counts: dict[str, int], paths: dict[str, str],
           side: dict[str, str], fmt: str, file_format: str, name: str) -> list[str]:
    """Stream the split files and the sidecar from the spool, then the registry (last: it never names a missing file)."""
    notes: list[str] = []
    splits = ("train", "validation") if counts["validation"] else ("train",)

    def rows(split: str):
        want = split == "validation"
        for item, is_val in zip(scan.spool, in_validation, strict=True):
            if is_val == want:
                yield _fill(item["fields"], fmt, scan.fill)

    if file_format == "jsonl":
        # One pass over the spool writes both splits and the provenance sidecar.
        with ExitStack() as stack:
            writers = {split: stack.enter_context(JsonlWriter(paths[split])) for split in splits}
            provenance = stack.enter_context(JsonlWriter(side["provenance"]))
            for item, is_val in zip(scan.spool, in_validation, strict=True):
                writer = writers["validation" if is_val else "train"]
                provenance.write({"id": item["id"], "split": "validation" if is_val else "train",
                                  "index": writer.count, "meta": item["meta"]})
                writer.write(_fill(item["fields"], fmt, scan.fill))
    else:
        for split in splits:
            write_records(paths[split], rows(split), fmt=file_format)
        write_records(side["provenance"], _provenance(scan, in_validation), fmt="jsonl")
    if not counts["validation"] and os.path.exists(paths["validation"]):
        os.unlink(paths["validation"])  # a stale split from an earlier run could hold training records
        notes.append(f"removed stale {paths['validation']}")
    entries = {f"{name}_{split}": dataset_entry(Path(paths[split]).name, fmt, scan.present) for split in splits}
    merge_dataset_info(side["dataset_info"], entries, remove=() if counts["validation"] else (f"{name}_validation",))
    return notes


def _provenance(scan: _Scan, in_validation: list[bool]):
    index = {"train": 0, "validation": 0}
    for item, is_val in zip(scan.spool, in_validation, strict=True):
        split = "validation" if is_val else "train"
        yield {"id": item["id"], "split": split, "index": index[split], "meta": item["meta"]}
        index[split] += 1
