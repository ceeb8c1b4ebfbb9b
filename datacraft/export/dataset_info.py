"""LLaMA-Factory's `dataset_info.json`: the entry for each exported file, merged into an existing registry.

LLaMA-Factory indexes each mapped column (`example[column]`), so a mapped column must exist in
every row; export therefore maps `system`/`history`/`tools` only when some record has them, and
then writes them in every record (empty when unset).
"""

from __future__ import annotations

import json
import os
from typing import Any

from datacraft.errors import ConfigError
from datacraft.io.writers import atomic_write

FILE_NAME = "dataset_info.json"
# LLaMA-Factory's defaults for ShareGPT (parser.py DatasetAttr), written out so the entry reads alone.
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}
OPENAI_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
               "system_tag": "system"}
# The optional columns each format may carry, in the order they are mapped.
OPTIONAL_COLUMNS = {"alpaca": ("system", "history", "tools"), "sharegpt": ("system", "tools"), "openai": ()}


def dataset_entry(file_name: str, fmt: str, columns: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """The `dataset_info.json` entry for one exported file; `columns` = optional columns present.

    >>> dataset_entry("x_train.jsonl", "alpaca", {"system"})
    {'file_name': 'x_train.jsonl', 'columns': {'prompt': 'instruction', 'query': 'input', 'response': 'output', 'system': 'system'}}
    """
    entry: dict[str, Any] = {"file_name": file_name}
    optional = {c: c for c in OPTIONAL_COLUMNS[fmt] if c in columns}
    if fmt == "alpaca":
        entry["columns"] = {"prompt": "instruction", "query": "input", "response": "output", **optional}
    elif fmt == "sharegpt":
        entry["formatting"] = "sharegpt"
        entry["columns"] = {"messages": "conversations", **optional}
        entry["tags"] = dict(SHAREGPT_TAGS)
    elif fmt == "openai":
        entry["formatting"] = "sharegpt"
        entry["columns"] = {"messages": "messages", **optional}
        entry["tags"] = dict(OPENAI_TAGS)
    else:
        raise ConfigError(f"unknown export format {fmt!r}; choose alpaca, sharegpt or openai")
    if "chosen" in columns:  # preference data: LLaMA-Factory's pairwise (DPO/ORPO/RM) reader
        entry["ranking"] = True
        entry["columns"].pop("response", None)
        entry["columns"].update(chosen="chosen", rejected="rejected")
    if "kto_tag" in columns:
        entry["columns"]["kto_tag"] = "kto_tag"
    return entry


def read_dataset_info(path: str) -> dict[str, Any]:
    """The registry at `path`, or an empty one when there is none yet."""
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the existing dataset registry ({exc}); fix or move it") from None
    if not isinstance(info, dict):
        raise ConfigError(f"{path}: expected a JSON object of dataset entries, got {type(info).__name__}")
    return info


def merge_dataset_info(path: str, entries: dict[str, dict[str, Any]], remove: tuple[str, ...] = ()) -> dict[str, Any]:
    """Add or replace `entries` in the registry at `path`, keep every other entry, rewrite it atomically."""
    info = read_dataset_info(path)
    for name in remove:
        info.pop(name, None)
    info.update(entries)
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(info, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    return info
