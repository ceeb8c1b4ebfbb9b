"""Merge a trained LoRA/DoRA adapter into its base model: one folder that `transformers` loads alone."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from datacraft.errors import ConfigError


def find_adapter(run: str | os.PathLike[str]) -> Path:
    """The adapter folder of a `datacraft train` run directory (RUN/adapter), or the adapter folder itself."""
    path = Path(run)
    for candidate in (path, path / "adapter"):
        if (candidate / "adapter_config.json").is_file():
            return candidate
    if (path / "model" / "config.json").is_file():
        raise ConfigError(f"{run}: a full fine-tune (RUN/model) is already a complete model; nothing to merge")
    raise ConfigError(f"{run}: no adapter_config.json here or in {path / 'adapter'}; pass a `datacraft train` run")


def merge_adapter(run: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, base: str | None = None,
                  dtype: str = "float32") -> dict[str, Any]:
    """Load the base the adapter names (or `base`), merge the adapter in, save model + tokenizer to out_dir."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from datacraft.train.model import source_options

    adapter = find_adapter(run)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out}: exists and is not empty; pick a new -o")
    if out.resolve() == adapter.resolve() or adapter.resolve() in out.resolve().parents:
        raise ConfigError(f"{out}: would write inside the adapter folder; pick another -o")
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    source = base or config.get("base_model_name_or_path")
    if not source:
        raise ConfigError(f"{adapter}/adapter_config.json names no base model; pass --base")
    options = source_options(source)
    try:
        model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype), **options)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the base model {source}: {exc}; pass --base") from None
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(str(adapter) if (adapter / "tokenizer_config.json").exists() else source)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if out.exists():
        out.rmdir()
    os.replace(tmp, out)
    return {"adapter": str(adapter), "base": source, "output": str(out), "dora": bool(config.get("use_dora")),
            "parameters": sum(p.numel() for p in merged.parameters())}
