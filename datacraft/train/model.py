"""Load a model and tokenizer (local directory or hub id), pick device and precision, attach LoRA."""

from __future__ import annotations

import importlib.util
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from datacraft.errors import ConfigError
from datacraft.train.config import LoraSettings, TrainConfig


@dataclass
class Loaded:
    """A model ready to train, with where and how it runs."""

    model: Any
    tokenizer: Any
    device: Any  # torch.device
    dtype: Any  # torch dtype of the forward pass (autocast), float32 when none
    source: str


def resolve_device(name: str = "auto"):
    """`auto` picks cuda, then mps, then cpu; anything else is passed to torch.device."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"--device {name}: not a device (try auto, cpu, cuda, cuda:1, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine (torch {torch.__version__})")
    return device


def resolve_dtype(name: str, device) -> Any:
    """`auto` is bfloat16 on a GPU that supports it, else float32."""
    import torch

    if name == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    return getattr(torch, name)


def _reachable(url: str, timeout: float = 3.0) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def source_options(source: str) -> dict[str, Any]:
    """Check a model directory or hub id before loading; extra from_pretrained options (offline cache)."""
    if not source:
        raise ConfigError("no model given: pass --model with a local model directory or a hub id")
    path = Path(source).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ConfigError(f"{source}: not a model directory (no config.json)")
        return {}
    if path.exists() or source.startswith((".", "/", "~")) or source.count("/") > 1:
        raise ConfigError(f"{source}: model directory not found")
    from huggingface_hub import constants, try_to_load_from_cache

    cached = isinstance(try_to_load_from_cache(source, "config.json"), str)
    # Without this check transformers retries for about a minute before failing with a traceback.
    if constants.HF_HUB_OFFLINE or not _reachable(constants.ENDPOINT):
        if cached:
            return {"local_files_only": True}
        raise ConfigError(f"cannot download {source}: no network; pass a local model directory")
    return {}


def load_tokenizer(source: str, **options: Any):
    """The model's tokenizer, with a pad token (the EOS token when it has none)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **options)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the tokenizer of {source}: {exc}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _quantization(config: TrainConfig, device, dtype) -> dict[str, Any]:
    if config.load_in is None:
        return {}
    if device.type != "cuda" or importlib.util.find_spec("bitsandbytes") is None:
        raise ConfigError(f"--load-in {config.load_in} needs a CUDA GPU and bitsandbytes (pip install bitsandbytes)")
    if config.lora is None:
        raise ConfigError(f"--load-in {config.load_in} trains LoRA adapters on a frozen base; drop --full")
    from transformers import BitsAndBytesConfig

    if config.load_in == 4:
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=dtype)
    else:
        quant = BitsAndBytesConfig(load_in_8bit=True)
    return {"quantization_config": quant, "device_map": {"": device.index or 0}}


def _attn_implementation(config: TrainConfig, device, dtype) -> str | None:
    import torch

    if config.attn_implementation:
        return config.attn_implementation
    flash_ok = device.type == "cuda" and dtype in (torch.bfloat16, torch.float16)
    if flash_ok and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"  # true varlen kernels for packed batches
    return None


def attach_lora(model: Any, settings: LoraSettings):
    """Wrap the model with trainable LoRA adapters; everything else is frozen."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                      target_modules=settings.targets, task_type="CAUSAL_LM", use_dora=settings.dora)
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise ConfigError(f"LoRA targets {settings.targets!r}: {exc}") from None


def load_for_training(config: TrainConfig) -> Loaded:
    """Tokenizer, model (with LoRA unless `lora` is None), device and precision from the config."""
    import torch
    from transformers import AutoModelForCausalLM

    options = source_options(config.model)
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype, device)
    tokenizer = load_tokenizer(config.model, **options)
    # LoRA keeps the frozen base in the compute dtype (half the memory); a full fine-tune keeps
    # float32 master weights and runs the forward pass under autocast.
    load_dtype = dtype if config.lora is not None else torch.float32
    kwargs: dict[str, Any] = {"dtype": load_dtype, **options, **_quantization(config, device, dtype)}
    attn = _attn_implementation(config, device, dtype)
    if attn:
        kwargs["attn_implementation"] = attn
    try:
        model = AutoModelForCausalLM.from_pretrained(config.model, **kwargs)
    except (OSError, ValueError, ImportError) as exc:
        raise ConfigError(f"cannot load the model {config.model}: {exc}") from None
    if "quantization_config" not in kwargs:
        model.to(device)
    else:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.gradient_checkpointing)
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model.config.use_cache = False
    if config.lora is not None:
        model = attach_lora(model, config.lora)
    return Loaded(model, tokenizer, device, dtype, base_reference(config.model))


def base_reference(source: str) -> str:
    """How an adapter names its base: a local directory as an absolute path, a hub id as given.

    A relative path would only resolve from the directory training ran in.
    """
    path = Path(source).expanduser()
    return str(path.resolve()) if path.is_dir() else source


def save_trained(model: Any, tokenizer: Any, out_dir: str | os.PathLike[str], base: str | None = None) -> str:
    """Save the adapter (or the full model) and the tokenizer to `out_dir`; an adapter records `base`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if base is not None and hasattr(model, "peft_config"):
        for adapter in model.peft_config.values():
            adapter.base_model_name_or_path = base
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def load_trained(base: str, adapter_dir: str, device: str = "cpu"):
    """The base model with a saved LoRA adapter applied, ready for inference."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    options = source_options(base)
    model = AutoModelForCausalLM.from_pretrained(base, **options)
    return PeftModel.from_pretrained(model, adapter_dir).to(resolve_device(device)).eval()
