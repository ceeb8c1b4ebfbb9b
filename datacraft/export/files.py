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
    dataset_entry,
    merge_dataset_info,
    read_dataset_info,
)
from datacraft.export.formats import OUTPUT_FORMATS
from datacraft.export.scan import Converted, Scan, converted
from datacraft.export.split import Clusterer, assign_split, validation_target
from datacraft.io.writers import RowWriter
from datacraft.records import Record, chat_to_form, conversation
from datacraft.runner import check_paths, read_inputs
from datacraft.stages import Ledger, Reject, RejectSink, map_stage
from datacraft.validate import validate_record
from datacraft.validate.checker import FAST_CHECKERS, Checker, get_checker

FILE_FORMATS = ("jsonl", "json")
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
    # validate_record(fields, fmt) is the hand-written checker's `check` when the bundled schema is the
    # one it implements (Checker.__call__ on a dict, not strict): called directly, without the lookup.
    checker = get_checker(fmt)
    check = FAST_CHECKERS[fmt].check if isinstance(checker, Checker) and checker.fast and not checker.strict else None

    def prepare(record: Record) -> Converted:
        chat = conversation(record)  # read once: for the fields and for the text the split looks at
        fields = chat_to_form(chat, record, fmt)
        if check is None or "chosen" in fields or check(fields):
            issues = output_issues(fields, fmt)
            if issues:
                raise Reject(*issues[0])
        return converted(fields, chat, record)

    return prepare


def _check_options(fmt: str, file_format: str, name: str, val_size: float) -> None:
    if fmt not in OUTPUT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose {', '.join(OUTPUT_FORMATS)}")
    if file_format not in FILE_FORMATS:
        raise ConfigError(f"unknown file format {file_format!r}; choose jsonl or json")
    if not _NAME.match(name):
        raise ConfigError(f"bad --name {name!r}: use letters, digits, '_', '-' or '.' (it names files and dataset entries)")
    validation_target(0, val_size)  # raises on a bad size before any work


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
    scan = Scan(fmt, group_near_duplicates, stratify, cluster)
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

    # A group's label is the index of its first record (Grouper.labels): counting the records past
    # the first of each group sizes the groups without a table entry for every record.
    extra = Counter(g for i, g in enumerate(groups) if g != i)
    joined = sum(extra.values())
    result = ledger.to_dict(scan.count)
    result.update({
        "format": fmt, "train": counts["train"], "validation": counts["validation"],
        "groups": len(groups) - joined, "grouped_records": joined + len(extra),
        "largest_group": max(extra.values(), default=0) + 1 if groups else 0, "columns": sorted(scan.present),
        "near_duplicates_from": "dedupe" if reused else "export" if group_near_duplicates else "off",
        "datasets": [f"{name}_{split}" for split in ("train", "validation") if split == "train" or counts[split]],
        "notes": notes,
        "files": {"train": paths["train"], **({"validation": paths["validation"]} if counts["validation"] else {}), **side},
    })
    return result


def _write(scan: Scan, in_validation: list[bool], counts: dict[str, int], paths: dict[str, str],
           side: dict[str, str], fmt: str, file_format: str, name: str) -> list[str]:
    """Stream the split files and the sidecar from the spool in one pass, then the registry (last: it never names a missing file)."""
    notes: list[str] = []
    splits = ("train", "validation") if counts["validation"] else ("train",)
    with ExitStack() as stack:
        writers = {split: stack.enter_context(RowWriter(paths[split], file_format, buffering=1 << 20)) for split in splits}
        provenance = stack.enter_context(RowWriter(side["provenance"], buffering=1 << 20))
        for is_val, row, rid, meta in scan.rows(in_validation):
            split = "validation" if is_val else "train"
            writer = writers[split]
            # The sidecar line as dumps_json writes {"id", "split", "index", "meta"}: compact, in that order.
            provenance.write(b'{"id":%b,"split":"%b","index":%d,"meta":%b}' % (rid, split.encode(), writer.count, meta))
            writer.write(row)
    if not counts["validation"] and os.path.exists(paths["validation"]):
        os.unlink(paths["validation"])  # a stale split from an earlier run could hold training records
        notes.append(f"removed stale {paths['validation']}")
    entries = {f"{name}_{split}": dataset_entry(Path(paths[split]).name, fmt, scan.present) for split in splits}
    merge_dataset_info(side["dataset_info"], entries, remove=() if counts["validation"] else (f"{name}_validation",))
    return notes
