"""`datacraft diagnose`: classify a run's loss curve and say what to change."""

from __future__ import annotations

import json
from pathlib import Path

import click

from datacraft.train.diagnose import diagnose_history, read_metrics
from datacraft.train.guidance import epoch_guidance


def _context(run_dir: Path) -> tuple[int | None, list[str]]:
    """Vocabulary size (summary.json or a model config.json) and generated answers (predictions.jsonl)."""
    vocab = None
    for name, key in (("summary.json", "vocab_size"), ("config.json", "vocab_size")):
        path = run_dir / name
        if path.is_file():
            try:
                vocab = json.loads(path.read_text(encoding="utf-8")).get(key) or vocab
            except (ValueError, AttributeError):
                pass
    predictions = []
    path = run_dir / "predictions.jsonl"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                predictions.append(str(json.loads(line).get("prediction", "")))
            except (ValueError, AttributeError):
                continue
    return vocab, predictions


@click.command("diagnose")
@click.argument("run_dir", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the diagnosis as JSON.")
@click.option("--vocab-size", type=int, default=None,
              help="Vocabulary size, for the collapse check (default: from the run's summary.json or config.json).")
def command(run_dir: str, as_json: bool, vocab_size: int | None) -> None:
    """Diagnose the loss curve of RUN_DIR: a `datacraft train` run, a Hugging Face Trainer output
    (trainer_state.json, also in its latest checkpoint-N), or LLaMA-Factory's trainer_log.jsonl.

    Judged on the smoothed curve with thresholds scaled by its own noise. Labels: healthy,
    underfitting, oscillating, spiking, overfitting, rebound (climbs back above its minimum),
    low_train_loss (memorising), collapsed (loss at ln(vocab), or one repeated token) or diverging
    (NaN/inf or rising), each with the advice a practitioner would give. Works without the train extra.

    Example:

        datacraft diagnose runs/qwen
        datacraft diagnose saves/llama3-lora/trainer_log.jsonl
    """
    rows = read_metrics(run_dir)
    folder = Path(run_dir) if Path(run_dir).is_dir() else Path(run_dir).parent
    vocab, predictions = _context(folder)
    diagnosis = diagnose_history(rows, vocab_size=vocab_size or vocab, predictions=predictions)
    summary_path = Path(run_dir) / "summary.json"
    guidance = None
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        config = summary.get("config", {})
        guidance = epoch_guidance(summary["train_records"], config.get("epochs", 3.0),
                                  max_steps=config.get("max_steps"), batch_size=config.get("batch_size", 8),
                                  grad_accum=config.get("grad_accum", 1))
    if as_json:
        click.echo(json.dumps({"diagnosis": diagnosis.to_dict(),
                               "guidance": guidance.to_dict() if guidance else None}, ensure_ascii=False, indent=2))
        return
    click.echo(diagnosis.format())
    if guidance:
        click.echo(f"epochs: {'ok' if guidance.ok else 'warning'}: {guidance.message}")
