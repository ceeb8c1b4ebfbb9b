"""Record ids for rows read without one: `<file>:<line>`, unique within a run and stable across reruns."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datacraft.io.readers import Row

# Suffixes a label drops (a file's format is not part of its name).
_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet", ".pq", ".xlsx", ".xls")


def source_labels(paths: Iterable[str]) -> dict[str, str]:
    """The name each input gives its records' ids: the file stem, or as much of the path as tells apart
    files with the same name (`zh/train.jsonl` and `en/train.jsonl`).

    >>> source_labels(["zh/train.jsonl", "en/train.jsonl", "dev.json", "-"])
    {'zh/train.jsonl': 'zh/train', 'en/train.jsonl': 'en/train', 'dev.json': 'dev', '-': 'stdin'}
    """
    paths = list(dict.fromkeys(paths))
    parts = {p: _label_parts(p) for p in paths}
    labels: dict[str, str] = {}
    for depth in range(1, 1 + max((len(v) for v in parts.values()), default=1)):
        taken = [p for p in paths if p not in labels]
        if not taken:
            break
        names = {p: "/".join(parts[p][-depth:]) for p in taken}
        counts = Counter(names.values())
        for p in taken:
            if counts[names[p]] == 1 or depth >= len(parts[p]):
                labels[p] = names[p]
    counts = Counter(labels.values())
    for p in paths:  # still equal (train.json beside train.jsonl): keep the suffix too
        if counts[labels[p]] > 1 and p != "-":
            labels[p] = "/".join([*parts[p][:-1], Path(p).name])
    return {p: labels[p] for p in paths}


def _label_parts(path: str) -> list[str]:
    if path == "-":
        return ["stdin"]
    pure = Path(os.path.normpath(path))
    name = pure.name
    for suffix in (".gz", pure.suffix):
        name = name.removesuffix(suffix) if name != suffix else name
    name = Path(name).stem if name.endswith(_SUFFIXES) else name
    return [*[p for p in pure.parent.parts if p not in ("/", "")], name]


def record_id(label: str, row: Row) -> str:
    """`label:line`, `label:line.N` for the N-th record starting on the same line, and the sheet's name
    for a workbook of several sheets.

    >>> from datacraft.io.readers import Row
    >>> record_id("faq", Row("faq.json", 1, {}, sub=2))
    'faq:1.3'
    """
    sheet = "[" + row.path.rpartition("[")[2] if row.path.endswith("]") and "[" in row.path else ""
    return f"{label}{sheet}:{row.line}" + (f".{row.sub + 1}" if row.sub else "")
