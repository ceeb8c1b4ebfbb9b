"""Rows of a dataset on the Hugging Face Hub, on ModelScope, or saved on disk by `datasets`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from datacraft.errors import ConfigError, InputError

_LOCAL_COPY = ("To read a local copy instead, pass its folder: one written by `datasets` "
               "(Dataset.save_to_disk) or a folder of JSON/JSONL/CSV/Parquet files")


def iter_hub_rows(dataset_id: str, *, subset: str | None = None, split: str | None = None,
                  streaming: bool = True) -> Iterator[dict[str, Any]]:
    """Rows of a Hugging Face Hub dataset; an unreachable hub is a ConfigError that says what to do."""
    import datasets

    split = split or "train"
    try:
        ds = datasets.load_dataset(dataset_id, name=subset, split=split, streaming=streaming)
    except ConnectionError as exc:
        raise ConfigError(_unreachable("the Hugging Face Hub", dataset_id, exc)) from None
    except FileNotFoundError as exc:  # datasets' DatasetNotFoundError is one
        if _offline():
            raise ConfigError(_unreachable("the Hugging Face Hub", dataset_id, exc)) from None
        raise InputError(dataset_id, "no such dataset on the Hugging Face Hub (a private one needs "
                         "`hf auth login`), nor a local file or folder of that name") from None
    except ValueError as exc:
        # Unknown split or subset: datasets lists the valid ones in its message.
        raise ConfigError(f"{dataset_id}: {exc}") from None
    yield from _guard(dataset_id, "the Hugging Face Hub", iter(ds))


def iter_modelscope_rows(dataset_id: str, *, subset: str | None = None, split: str | None = None,
                         streaming: bool = True) -> Iterator[dict[str, Any]]:
    """Rows of a ModelScope dataset (needs the optional `modelscope` package)."""
    try:
        from modelscope.msdatasets import MsDataset
    except ImportError:
        raise ConfigError("install modelscope to read ModelScope ids: pip install modelscope") from None
    try:
        ds = MsDataset.load(dataset_id, subset_name=subset, split=split or "train", use_streaming=streaming)
    except (ConnectionError, OSError) as exc:
        raise ConfigError(_unreachable("ModelScope", dataset_id, exc)) from None
    yield from _guard(dataset_id, "ModelScope", iter(ds))


def _guard(dataset_id: str, hub: str, rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
    """Streaming fetches lazily: a connection lost mid-way gets the same clear message."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except ConnectionError as exc:
            raise ConfigError(_unreachable(hub, dataset_id, exc)) from None
        yield row


def _offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _unreachable(hub: str, dataset_id: str, exc: BaseException) -> str:
    why = "offline mode is on (HF_HUB_OFFLINE)" if _offline() else f"{type(exc).__name__}: {exc}"
    hint = "" if _offline() else " Set HF_HUB_OFFLINE=1 to fail at once instead of retrying."
    return f"cannot reach {hub} for {dataset_id!r} ({why}). {_LOCAL_COPY}.{hint}"
