"""Turn the SOURCE arguments into a plan: which files, datasets and URLs to read, and how."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from datacraft.errors import ConfigError, InputError
from datacraft.ingest.documents import DOCUMENT_SUFFIXES
from datacraft.io.readers import detect_format

# Kinds of source; the first two give records, "document" and "url" give documents.
STRUCTURED, DATASET, HUB, MODELSCOPE, DOCUMENT, URL, UNSUPPORTED = (
    "structured", "dataset", "hub", "modelscope", "document", "url", "unsupported")
RECORD_KINDS = {STRUCTURED, DATASET, HUB, MODELSCOPE}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class Source:
    """One thing to read: `path` is a file, a folder, a dataset id or a URL."""

    kind: str
    path: str
    fmt: str | None = None  # reader format (structured) or document kind (text, markdown, html, pdf, docx)
    walked: bool = False  # found in a folder, rather than named on the command line


@dataclass
class Plan:
    sources: list[Source]
    skipped: Counter[str]  # files a folder walk left out, by why

    @property
    def kinds(self) -> set[str]:
        return {s.kind for s in self.sources}


def is_url(arg: str) -> bool:
    """True for an http(s) URL.

    >>> is_url("https://example.com/a"), is_url("data/a.jsonl")
    (True, False)
    """
    return arg.lower().startswith(("http://", "https://"))


def is_saved_dataset(folder: str | os.PathLike[str]) -> bool:
    """True for a folder written by `datasets` (`save_to_disk`)."""
    p = Path(folder)
    return (p / "dataset_dict.json").is_file() or ((p / "state.json").is_file() and (p / "dataset_info.json").is_file())


def classify(path: str, fmt: str | None = None, walked: bool = False) -> Source:
    """How to read one file: as records (structured), as a document, or not at all."""
    if fmt:
        return Source(STRUCTURED, path, fmt, walked)
    kind = DOCUMENT_SUFFIXES.get(Path(path).suffix.lower())
    if kind:
        return Source(DOCUMENT, path, kind, walked)
    try:
        return Source(STRUCTURED, path, detect_format(path), walked)
    except ConfigError:
        return Source(UNSUPPORTED, path, None, walked)


def plan_sources(args: list[str], *, include: list[str] = (), exclude: list[str] = (),
                 fmt: str | None = None, leave_out: list[str] = ()) -> Plan:
    """Expand the SOURCE arguments (files, folders, dataset ids, URLs) into a list of sources.

    A missing path that looks like `owner/name` is a hub dataset id; any other missing path is an error.
    `leave_out` (the output files) is never read, so a rerun into the same folder does not eat itself.
    """
    sources: list[Source] = []
    skipped: Counter[str] = Counter()
    outputs = {Path(p).resolve() for p in leave_out if p and p != "-"}
    for arg in args:
        lowered = arg.lower()
        if is_url(arg):
            sources.append(Source(URL, arg))
        elif lowered.startswith(("hf://", "hf:")):
            sources.append(Source(HUB, arg.split(":", 1)[1].removeprefix("//")))
        elif lowered.startswith(("ms:", "modelscope:")):
            sources.append(Source(MODELSCOPE, arg.split(":", 1)[1].removeprefix("//")))
        elif arg == "-":
            sources.append(Source(STRUCTURED, arg, fmt or "json"))
        elif os.path.isdir(arg):
            if fmt == "hf" or is_saved_dataset(arg):
                sources.append(Source(DATASET, arg))
            else:
                found = len(sources)
                _walk(arg, include, exclude, fmt, outputs, sources, skipped)
                if len(sources) == found:
                    why = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in skipped.items())
                    raise InputError(arg, "no files to read in this folder" + (f" (left out: {why})" if why else ""))
        elif os.path.exists(arg):
            source = classify(arg, fmt)
            if source.kind == UNSUPPORTED:
                raise ConfigError(f"{arg}: cannot tell what this file holds from its name; pass --format "
                                  f"for records, or rename it (.txt, .md, .html, .pdf, .docx for documents)")
            sources.append(source)
        elif _HUB_ID.match(arg) and Path(arg).suffix.lower() not in _KNOWN_SUFFIXES:
            sources.append(Source(HUB, arg))
        else:
            raise InputError(arg, "file not found")
    return Plan(sources, skipped)


_KNOWN_SUFFIXES = {*DOCUMENT_SUFFIXES, ".jsonl", ".json", ".csv", ".tsv", ".parquet", ".xlsx", ".xls", ".ndjson", ".gz"}


def _walk(root: str, include: list[str], exclude: list[str], fmt: str | None, outputs: set[Path],
          sources: list[Source], skipped: Counter[str]) -> None:
    """Every file under `root`, in sorted order, that the globs let through."""
    for folder, dirs, files in os.walk(root):
        # Sorted in place so the walk (and so the output) is the same on every machine.
        dirs.sort()
        kept_dirs = []
        for name in dirs:
            full = os.path.join(folder, name)
            if name.startswith("."):
                skipped["hidden"] += 1
            elif is_saved_dataset(full) and _wanted(os.path.relpath(full, root), include, exclude, skipped):
                sources.append(Source(DATASET, full, walked=True))
            else:
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(files):
            full = os.path.join(folder, name)
            if name.startswith("."):
                skipped["hidden"] += 1
            elif Path(full).resolve() in outputs:
                skipped["output_file"] += 1
            elif _wanted(os.path.relpath(full, root), include, exclude, skipped):
                sources.append(classify(full, fmt, walked=True))


def _wanted(relative: str, include: list[str], exclude: list[str], skipped: Counter[str]) -> bool:
    """Globs match the path below the folder or the bare name; `*` crosses folders."""
    rel = relative.replace(os.sep, "/")
    name = rel.rsplit("/", 1)[-1]

    def hit(patterns: list[str]) -> bool:
        return any(fnmatch(rel, p) or fnmatch(name, p) for p in patterns)

    if include and not hit(include):
        skipped["not_included"] += 1
        return False
    if exclude and hit(exclude):
        skipped["excluded"] += 1
        return False
    return True
