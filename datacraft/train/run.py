"""File-level entry points: read records, train, write the run directory; the same for saturation."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from datacraft.errors import ConfigError
from datacraft.io.writers import JsonlWriter, atomic_write, check_not_input
from datacraft.records import Record
from datacraft.train.checkpoint import latest_checkpoint
from datacraft.train.config import TrainConfig
from datacraft.train.data import EncodeStats, encode_records, load_records, split_records
from datacraft.train.deps import require_train
from datacraft.train.diagnose import diagnose_history
from datacraft.train.guidance import epoch_guidance
from datacraft.train.metrics import strip_thinking
from datacraft.train.model import Loaded, load_for_training, save_trained
from datacraft.train.saturation import SaturationConfig, run_saturation
from datacraft.train.trainer import Checkpoint, Trainer, TrainResult


def load_split(data: Sequence[str], eval_data: Sequence[str], val_size: float, seed: int,
               read_options: dict[str, Any] | None = None) -> tuple[list[Record], list[Record]]:
    """Training and evaluation records: the eval files, or a held-out share of the data."""
    records = load_records(data, read_options)
    if eval_data:
        return records, load_records(eval_data, read_options)
    if len(records) < 2:
        where = ", ".join(str(path) for path in data)
        if not records:
            raise ConfigError(f"{where}: no records to train on")
        raise ConfigError(f"{where}: 1 training record: need at least 2 to hold one out (or pass --eval)")
    return split_records(records, val_size, seed)


def train_once(train: Sequence[Record], eval_records: Sequence[Record], config: TrainConfig, *,
               label_key: str | None = None, progress: bool = False, checkpoints: Sequence[float] = (),
               on_checkpoint: Checkpoint | None = None, notify: Callable[[str], None] | None = None,
               run_dir: str | Path | None = None, resume: bool = False) -> tuple[Loaded, TrainResult, EncodeStats]:
    """Load the model, tokenise, train and evaluate one run; `notify` hears warnings before training starts."""
    import torch

    torch.manual_seed(config.seed)  # LoRA initialisation
    loaded = load_for_training(config)
    options = {"max_length": config.max_length, "template": config.template,
               "mask_history": config.mask_history, "label_key": label_key}
    train_examples, stats = encode_records(train, loaded.tokenizer, **options)
    eval_examples, _ = encode_records(eval_records, loaded.tokenizer, **options)
    if not train_examples:
        raise ConfigError("no training record has an answer token left after --max-length; raise it")
    for warning in stats.warnings(config.max_length) if notify else ():
        notify(warning)
    trainer = Trainer(loaded, config, progress=progress)
    result = trainer.fit(train_examples, eval_examples, checkpoints=checkpoints, on_checkpoint=on_checkpoint,
                         run_dir=run_dir, resume=resume)
    if notify and trainer.config.packing != "off" and not result.packed and trainer.device.type == "cuda":
        notify(f"padded batches: {result.packing_reason}")
    return loaded, result, stats


def train_model(data: Sequence[str], output_dir: str, config: TrainConfig, *, eval_data: Sequence[str] = (),
                read_options: dict[str, Any] | None = None, label_key: str | None = None,
                progress: bool = False, notify: Callable[[str], None] | None = None,
                resume: bool = False) -> dict[str, Any]:
    """Train on the data; write the adapter (or model), metrics.jsonl, loss.png, predictions and summary.json."""
    require_train()
    out = Path(output_dir)
    check_not_input(str(out / "metrics.jsonl"), [*data, *eval_data])
    if resume and latest_checkpoint(out) is None:
        raise ConfigError(f"--resume: no checkpoint in {out / 'checkpoints'}; train with --save-every first")
    train, eval_records = load_split(data, eval_data, config.val_size, config.seed, read_options)
    guidance = epoch_guidance(len(train), config.epochs, max_steps=config.max_steps,
                              batch_size=config.batch_size, grad_accum=config.grad_accum)
    if notify and not guidance.ok:
        notify(guidance.message)
    loaded, result, stats = train_once(train, eval_records, config, label_key=label_key, progress=progress,
                                       notify=notify, run_dir=out, resume=resume)
    weights = save_trained(loaded.model, loaded.tokenizer, out / ("adapter" if config.lora else "model"),
                           base=loaded.source)
    with JsonlWriter(out / "metrics.jsonl") as writer:
        for row in result.history:
            writer.write(row)
    from datacraft.train.plot import plot_loss

    plot = plot_loss(result.history, str(out / "loss.png"), title=f"{Path(config.model).name}: {len(train)} records")
    predictions = result.final.pop("predictions", None)
    sources = result.final.pop("sources", None) or []
    if predictions:
        with JsonlWriter(out / "predictions.jsonl") as writer:
            for source, prediction in zip(sources, predictions, strict=True):
                record = eval_records[source]
                writer.write({"id": record.get("id"), "reference": record["output"], "prediction": prediction,
                              "answer": strip_thinking(prediction)})
    diagnosis = diagnose_history(result.history, vocab_size=len(loaded.tokenizer), predictions=predictions or ())
    summary = {
        "model": config.model, "device": str(loaded.device), "dtype": str(loaded.dtype).replace("torch.", ""),
        "packed": result.packed, "packing_reason": result.packing_reason, "loss": result.loss_kind,
        "vocab_size": len(loaded.tokenizer), "converged": result.converged, "best_step": result.best_step,
        "resumed_from": result.resumed_from,
        "train_records": len(train), "eval_records": len(eval_records), "template": stats.template,
        "truncated": stats.truncated, "dropped": stats.dropped, "warnings": stats.warnings(config.max_length),
        "steps": result.steps, "total_steps": result.total_steps, "stopped": result.stopped,
        "tokens": result.tokens, "seconds": round(result.seconds, 2),
        "tokens_per_second": round(result.tokens_per_second, 1),
        "final": result.final, "diagnosis": diagnosis.to_dict(), "guidance": guidance.to_dict(),
        "outputs": {"weights": weights, "metrics": str(out / "metrics.jsonl"), "plot": plot},
        "config": config.model_dump(),
    }
    with atomic_write(out / "summary.json", "w", encoding="utf-8") as handle:
        json.dump(summary, handle, ensure_ascii=False, indent=2, default=str)
    return summary


def evaluate_untrained(eval_records: Sequence[Record], config: TrainConfig, *, label_key: str | None = None
                       ) -> dict[str, Any]:
    """The base model's eval loss and task score before any training: the saturation curve's floor."""
    loaded = load_for_training(config)  # a fresh LoRA adapter is a no-op (its B matrix starts at zero)
    options = {"max_length": config.max_length, "template": config.template,
               "mask_history": config.mask_history, "label_key": label_key}
    eval_examples, _ = encode_records(eval_records, loaded.tokenizer, **options)
    out = Trainer(loaded, config).evaluate(eval_examples)
    return {"score": out.get("score", 0.0), "by_label": out.get("by_label", {}), "eval_loss": out.get("eval_loss")}


def saturation_model(data: Sequence[str], eval_data: Sequence[str], output_dir: str, config: TrainConfig,
                     sat: SaturationConfig, *, read_options: dict[str, Any] | None = None, progress: bool = False,
                     on_run: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Saturation curve over the data (see datacraft.train.saturation); eval files, or a fixed held-out share."""
    require_train()
    if not config.metric:
        raise ConfigError("saturation needs a task metric: pass --metric exact_match, token_f1 or module:function")
    check_not_input(str(Path(output_dir) / "report.json"), [*data, *eval_data])
    pool, eval_records = load_split(data, eval_data, config.val_size, config.seed, read_options)
    # Every record of the fixed eval set is scored: the curve must not wobble with a sample.
    run_config = config.model_copy(update={"metric_samples": None})

    def run_one(records: list[Record], seed: int) -> dict[str, Any]:
        per_epoch = max(1, math.ceil(len(records) / (config.batch_size * config.grad_accum)))
        update: dict[str, Any] = {"seed": seed}
        if sat.budget == "steps":
            update.update(max_steps=sat.steps)
        elif sat.budget == "epochs":
            update.update(epochs=sat.epochs, max_steps=None)
        else:
            update.update(epochs=sat.max_epochs, max_steps=None, early_stopping_patience=sat.patience,
                          early_stopping_metric=sat.stop_on, load_best=True,
                          eval_every=max(1, per_epoch // sat.evals_per_epoch))
        _, result, _ = train_once(records, eval_records, run_config.model_copy(update=update), label_key=sat.label,
                                  progress=progress)
        final = result.final
        return {"score": final.get("score", 0.0), "by_label": final.get("by_label", {}),
                "eval_loss": final.get("eval_loss"), "steps": result.steps, "seconds": round(result.seconds, 2),
                "stopped": result.stopped, "converged": result.converged, "best_step": result.best_step,
                "epochs": round(result.steps / per_epoch, 2)}

    return run_saturation(pool, eval_records, output_dir, config, sat, run_one, on_run=on_run,
                          baseline=lambda: evaluate_untrained(eval_records, run_config, label_key=sat.label))
