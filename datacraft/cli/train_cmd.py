"""`datacraft train`: LoRA fine-tune a model on Alpaca records; shared training options for saturation/tune."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import click

from datacraft.cli.base import echo_err, input_options, read_options
from datacraft.errors import ConfigError
from datacraft.train.config import TrainConfig, load_train_config
from datacraft.train.diagnose import Diagnosis

LORA_OPTIONS = {"lora_r": "r", "lora_alpha": "alpha", "lora_dropout": "dropout", "lora_targets": "targets",
                "lora_dora": "dora"}

_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "epochs": click.option("--epochs", type=float, default=None, help="Passes over the data (default 3)."),
    "max_steps": click.option("--max-steps", type=int, default=None, help="Optimizer steps; overrides --epochs."),
    "learning_rate": click.option("--lr", "learning_rate", type=float, default=None, help="Peak learning rate (default 2e-4)."),
    "lora_r": click.option("--lora-r", type=int, default=None, help="LoRA rank (default 16)."),
    "lora_alpha": click.option("--lora-alpha", type=int, default=None, help="LoRA alpha (default 32)."),
    "lora_dropout": click.option("--lora-dropout", type=float, default=None, help="LoRA dropout (default 0.05)."),
    "lora_targets": click.option("--lora-targets", default=None, metavar="all-linear|NAME,...",
                                 help="Modules to adapt (default all-linear: every linear layer but the head)."),
    "full": click.option("--full", is_flag=True, default=None, help="Train every weight instead of a LoRA adapter."),
    "batch_size": click.option("--batch-size", type=int, default=None, help="Records per forward pass (default 8)."),
    "grad_accum": click.option("--grad-accum", type=int, default=None, help="Forward passes per step (default 1)."),
    "max_length": click.option("--max-length", type=int, default=None,
                               help="Tokens per record; longer ones lose the end of the answer, with a warning (default 1024)."),
    "scheduler": click.option("--scheduler", type=click.Choice(["cosine", "linear", "constant"]), default=None,
                              help="Decay after warm-up (default cosine)."),
    "warmup_ratio": click.option("--warmup-ratio", type=float, default=None, help="Share of steps warming up (default 0.03)."),
    "packing": click.option("--packing", type=click.Choice(["auto", "on", "off"]), default=None,
                            help="Padding-free packed batches (default auto: on with CUDA, off on CPU)."),
    "device": click.option("--device", default=None, help="auto (default), cpu, cuda, cuda:1, mps."),
    "dtype": click.option("--dtype", type=click.Choice(["auto", "float32", "bfloat16", "float16"]), default=None,
                          help="Compute precision (default auto: bf16 where the GPU supports it)."),
    "load_in": click.option("--load-in", type=click.Choice(["4", "8"]), default=None,
                            help="Quantise the frozen base with bitsandbytes (QLoRA; CUDA only)."),
    "attn_implementation": click.option("--attn", "attn_implementation", default=None,
                         help="Attention kernel: sdpa, eager, flash_attention_2 (default: flash-attn if installed on CUDA)."),
    "gradient_checkpointing": click.option("--gradient-checkpointing", is_flag=True, default=None,
                                           help="Recompute activations to save memory."),
    "eval_every": click.option("--eval-every", type=int, default=None, help="Steps between eval-loss points (default: ~10 per run)."),
    "val_size": click.option("--val-size", type=float, default=None, help="Share held out when no --eval is given (default 0.1)."),
    "metric": click.option("--metric", default=None, metavar="NAME|module:function",
                           help="exact_match, token_f1 (default), none, or a function (prediction, reference) -> float."),
    "metric_samples": click.option("--metric-samples", type=int, default=None,
                                   help="Eval records scored by generation (default 64)."),
    "max_new_tokens": click.option("--max-new-tokens", type=int, default=None, help="Generation budget when scoring (default 128)."),
    "template": click.option("--template", type=click.Choice(["auto", "fallback"]), default=None,
                             help="auto: the tokenizer's chat template; fallback: the built-in Alpaca-style one."),
    "mask_history": click.option("--mask-history", is_flag=True, default=None,
                                 help="Learn only the last answer of multi-turn records."),
    "seed": click.option("--seed", type=int, default=None, help="Data order, split and adapter init (default 42)."),
    "early_stopping_patience": click.option("--early-stopping", "early_stopping_patience", type=int, default=None,
                                            metavar="EVALS", help="Stop after this many evals without improvement."),
    "early_stopping_metric": click.option("--early-stopping-metric", type=click.Choice(["eval_loss", "score"]),
                                          default=None, help="What must improve (default eval_loss)."),
    "load_best": click.option("--load-best", is_flag=True, default=None,
                              help="End with the weights of the best eval, not the last step."),
    "save_every": click.option("--save-every", type=int, default=None, metavar="STEPS",
                               help="Write a checkpoint (OUTPUT_DIR/checkpoints) every this many steps."),
    "neftune_alpha": click.option("--neftune-alpha", type=float, default=None,
                                  help="NEFTune: noise on the input embeddings while training (the paper uses 5)."),
    "lora_dora": click.option("--dora", "lora_dora", is_flag=True, default=None,
                              help="DoRA (weight-decomposed LoRA) instead of plain LoRA."),
    "tensorboard": click.option("--tensorboard", is_flag=True, default=None,
                                help="Also log to OUTPUT_DIR/tensorboard (pip install tensorboard)."),
}


def training_options(exclude: Iterable[str] = ()) -> Callable[[Any], Any]:
    """The shared training options (minus `exclude`), plus --data/--eval/--model/--output-dir/--config."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = input_options(fn)  # innermost: listed last in --help
        for name, option in reversed(_OPTIONS.items()):
            if name not in exclude:
                fn = option(fn)
        fn = click.option("--config", "config_path", default=None, metavar="PATH",
                          help="YAML/JSON file of training settings (any option's name with _).")(fn)
        fn = click.option("-o", "--output-dir", required=True, metavar="DIR", help="Where the run is written.")(fn)
        fn = click.option("--model", default=None, metavar="PATH_OR_HUB_ID", help="Local model directory or hub id.")(fn)
        fn = click.option("--eval", "eval_data", multiple=True, metavar="PATH",
                          help="Evaluation records (default: hold out --val-size of --data).")(fn)
        return click.option("--data", multiple=True, required=True, metavar="PATH", help="Training records (repeatable).")(fn)
    return decorate


def build_config(options: dict[str, Any]) -> TrainConfig:
    """TrainConfig from --config plus the options given on the command line (consumed from `options`)."""
    overrides: dict[str, Any] = {}
    lora: dict[str, Any] = {}
    full = options.pop("full", None)
    for name in (*_OPTIONS, "model"):
        value = options.pop(name, None)
        if value is None:
            continue
        if name in LORA_OPTIONS:
            lora[LORA_OPTIONS[name]] = value.split(",") if name == "lora_targets" and value != "all-linear" else value
        elif name == "load_in":
            overrides[name] = int(value)
        elif name == "metric":
            overrides[name] = None if value == "none" else value
        else:
            overrides[name] = value
    if full and lora:
        raise ConfigError("--full trains every weight: drop the --lora-* options")
    if full:
        overrides["lora"] = None
    elif lora:
        overrides["lora"] = lora
    return load_train_config(options.pop("config_path", None), **overrides)


def split_read_options(options: dict[str, Any]) -> dict[str, Any]:
    """The input options, consumed from `options`."""
    return read_options(options.pop("fmt"), options.pop("encoding"), options.pop("mapping"), options.pop("split"))


def prepare() -> None:
    """Fail fast without the train extra; quiet the libraries' own progress output."""
    from datacraft.train.deps import quiet_libraries, require_train

    require_train()
    quiet_libraries()


@click.command("train")
@training_options()
@click.option("--label", default=None, metavar="KEY", help="Report the metric per value of this key, e.g. meta.task_type.")
@click.option("--resume", is_flag=True, help="Continue from the latest checkpoint in OUTPUT_DIR (see --save-every).")
def command(**options: Any) -> None:
    """Fine-tune a model (LoRA by default) on Alpaca records; write the adapter, loss curve and diagnosis.

    Answers are learned, prompts masked; the model's chat template renders the records (or a
    fallback). Writes OUTPUT_DIR/adapter (or model with --full), metrics.jsonl, loss.png,
    predictions.jsonl and summary.json, then prints the loss-curve diagnosis and epoch guidance.
    Needs `pip install datacraft[train]`.

    Example:

    \b
        datacraft train --data train.jsonl --model Qwen/Qwen2.5-0.5B-Instruct -o runs/qwen --epochs 3
        datacraft train --data train.jsonl --eval val.jsonl --model ./my-model -o runs/x --metric exact_match
    """
    output_dir, data, eval_data = options.pop("output_dir"), options.pop("data"), options.pop("eval_data")
    label, resume = options.pop("label"), options.pop("resume")
    reading = split_read_options(options)
    config = build_config(options)
    prepare()
    from datacraft.train.run import train_model

    summary = train_model(list(data), output_dir, config, eval_data=list(eval_data), read_options=reading,
                          label_key=label, progress=sys.stderr.isatty(), notify=lambda m: echo_err(f"warning: {m}"),
                          resume=resume)
    click.echo(format_summary(summary))


def format_summary(summary: dict[str, Any]) -> str:
    """The end-of-training report for the terminal."""
    batches = "packed (padding-free)" if summary["packed"] else "padded"
    lines = [f"trained on {summary['train_records']} records ({summary['eval_records']} for eval) with "
             f"{summary['device']}/{summary['dtype']}, {batches} batches: {summary['steps']} steps, "
             f"{summary['seconds']:.1f} s, {summary['tokens_per_second']:,.0f} tokens/s"]
    if summary.get("resumed_from") is not None:
        lines.append(f"resumed from the checkpoint at step {summary['resumed_from']}")
    if summary["stopped"]:
        best = f"; weights from the best eval, step {summary['best_step']}" if summary.get("best_step") is not None else ""
        lines.append(f"stopped early: {summary['stopped']}{best}")
    asked = summary["config"].get("packing") == "on" or summary["device"].startswith("cuda")
    if not summary["packed"] and summary.get("packing_reason") and asked and summary["config"].get("packing") != "off":
        lines.append(f"padded batches: {summary['packing_reason']}")
    final = summary["final"]
    if final.get("eval_loss") is not None:
        text = f"eval loss {final['eval_loss']:.4f}"
        if "score" in final:
            text += f", {summary['config']['metric']} {final['score']:.4f} on {final['n']} records"
        lines.append(text)
    for label, value in (final.get("by_label") or {}).items():
        lines.append(f"  {label}: {value:.4f}")
    lines.append(Diagnosis(**summary["diagnosis"]).format())
    guidance = summary["guidance"]
    lines.append(f"epochs: {'ok' if guidance['ok'] else 'warning'}: {guidance['message']}")
    outputs = summary["outputs"]
    lines.append(f"wrote {outputs['weights']}, {outputs['metrics']}, {outputs['plot']}")
    return "\n".join(lines)
