"""`datacraft diagnose`: classify a run's loss curve and say what to change."""

from __future__ import annotations

import json
from pathlib import Path

import click

from datacraft.train.diagnose import diagnose_history, read_metrics
from datacraft.train.guidance import epoch_guidance


@click.command("diagnose")
@click.argument("run_dir", type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the diagnosis as JSON.")
def command(run_dir: str, as_json: bool) -> None:
    """Diagnose the loss curve of RUN_DIR (a `datacraft train` output, or its metrics.jsonl).

    Labels: healthy, underfitting (loss barely falls), oscillating, spiking (sudden jumps),
    overfitting (eval loss rises while train loss keeps falling) or diverging (NaN/inf or rising),
    each with the advice a practitioner would give. Works without the train extra.

    Example:

        datacraft diagnose runs/qwen
    """
    diagnosis = diagnose_history(read_metrics(run_dir))
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
