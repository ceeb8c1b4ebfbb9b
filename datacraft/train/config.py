"""Training settings: one pydantic model with every default in code, loadable from YAML."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from datacraft.config import read_config_file, validate_section


class LoraSettings(BaseModel):
    """LoRA adapter shape (peft)."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(16, ge=1)  # rank of the update matrices
    alpha: int = Field(32, ge=1)  # scale = alpha / r; 2r is the usual choice
    dropout: float = Field(0.05, ge=0, lt=1)  # on the adapter input; small data overfits less with some
    targets: str | list[str] = "all-linear"  # every linear layer but the output head (QLoRA's finding)
    dora: bool = False  # weight-decomposed LoRA (DoRA): magnitude and direction trained apart; slower


class TrainConfig(BaseModel):
    """Everything `datacraft train` needs besides the data."""

    model_config = ConfigDict(extra="forbid")

    model: str = ""  # local model directory or hub id
    max_length: int = Field(1024, ge=8)  # tokens per record; longer records lose the end of the answer
    epochs: float = Field(3.0, gt=0)  # passes over the training data
    max_steps: int | None = Field(None, ge=1)  # optimizer steps; overrides epochs when set
    batch_size: int = Field(8, ge=1)  # records per forward pass
    grad_accum: int = Field(1, ge=1)  # forward passes per optimizer step
    learning_rate: float = Field(2e-4, gt=0)  # LoRA wants ~10x a full fine-tune's rate
    scheduler: Literal["cosine", "linear", "constant"] = "cosine"  # decay after warm-up
    warmup_ratio: float = Field(0.03, ge=0, lt=1)  # share of steps spent ramping the rate up
    weight_decay: float = Field(0.0, ge=0)  # AdamW decay; LoRA rarely needs it
    max_grad_norm: float | None = Field(1.0, gt=0)  # gradient clipping; None switches it off
    lora: LoraSettings | None = LoraSettings()  # None trains every weight (full fine-tune)
    packing: Literal["auto", "on", "off"] = "auto"  # auto: padding-free batches on CUDA, padded on CPU
    device: str = "auto"  # auto: cuda, then mps, then cpu
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"  # auto: bf16 where supported
    load_in: Literal[4, 8] | None = None  # bitsandbytes quantised base model (QLoRA); CUDA only
    attn_implementation: str | None = None  # None: transformers' default (sdpa); e.g. flash_attention_2
    gradient_checkpointing: bool = False  # trade compute for memory on long records
    eval_every: int | None = Field(None, ge=1)  # steps between eval-loss points; None: about 10 per run
    val_size: float = Field(0.1, gt=0, lt=1)  # share held out for evaluation when no eval file is given
    metric: str | None = "token_f1"  # exact_match, token_f1, module:function, or None (eval loss only)
    metric_samples: int | None = Field(64, ge=1)  # eval records scored by generation; None: all
    max_new_tokens: int = Field(128, ge=1)  # generation budget when scoring
    mask_history: bool = False  # True: loss on the last answer only, not on earlier turns
    template: Literal["auto", "fallback"] = "auto"  # auto: the tokenizer's chat template if it has one
    seed: int = 42  # data order, split, adapter init
    early_stopping_patience: int | None = Field(None, ge=1)  # evals without improvement before stopping; None: off
    early_stopping_metric: Literal["eval_loss", "score"] = "eval_loss"  # what "improvement" means
    early_stopping_min_delta: float = Field(0.0, ge=0)  # smaller changes do not count as improvement
    load_best: bool = False  # end with the weights of the best eval, not the last step
    save_every: int | None = Field(None, ge=1)  # steps between checkpoints (RUN/checkpoints); None: none
    save_total_limit: int | None = Field(2, ge=1)  # checkpoints kept; None: all
    neftune_alpha: float | None = Field(None, gt=0)  # NEFTune embedding noise (5 in the paper); None: off
    tensorboard: bool = False  # also log to RUN/tensorboard (needs `pip install tensorboard`)


def load_train_config(path: str | None, **overrides: Any) -> TrainConfig:
    """Read a YAML/JSON config (unknown keys are an error naming the key), then apply overrides as given."""
    data: dict[str, Any] = dict(read_config_file(path)) if path else {}
    for key, value in overrides.items():
        if key == "lora" and isinstance(value, dict) and isinstance(data.get("lora"), dict):
            data["lora"] = {**data["lora"], **value}  # --lora-r on top of the file's lora section
        else:
            data[key] = value
    return validate_section(TrainConfig, data, path or "config")
