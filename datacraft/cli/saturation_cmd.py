"""`datacraft saturation`: how much data does the task need? Score vs training-set size."""

from __future__ import annotations

import sys
from typing import Any

import click

from datacraft.cli.base import echo_err
from datacraft.cli.train_cmd import build_config, prepare, split_read_options, training_options
from datacraft.errors import ConfigError


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--sizes {text}: expected comma-separated integers, e.g. 50,100,200") from None
    if not sizes or min(sizes) < 1:
        raise ConfigError(f"--sizes {text}: sizes must be positive")
    return sizes


@click.command("saturation")
@training_options(exclude=("max_steps", "early_stopping_patience", "early_stopping_metric", "load_best", "save_every",
                           "tensorboard"))
@click.option("--sizes", default="50,100,200,400,800,1600", show_default=True, help="Training-set sizes, comma-separated.")
@click.option("--seeds", type=int, default=3, show_default=True, help="Runs per size, each on its own subset.")
@click.option("--steps", type=int, default=None,
              help="Fixed optimizer steps for every size instead of training to convergence (large sizes undertrain).")
@click.option("--patience", type=int, default=5, show_default=True,
              help="Evals without improvement before a run counts as converged and stops.")
@click.option("--max-epochs", type=float, default=40.0, show_default=True,
              help="Cap on passes per run; a run stopped by it is reported as not converged.")
@click.option("--evals-per-epoch", type=int, default=1, show_default=True, help="Eval points per pass over the subset.")
@click.option("--stop-on", type=click.Choice(["eval_loss", "score"]), default="eval_loss", show_default=True,
              help="What must stop improving: eval loss, or the --metric score (slower: it generates).")
@click.option("--bootstrap", type=int, default=400, show_default=True,
              help="Resamples over seeds for the intervals.")
@click.option("--label", default="meta.task_type", show_default=True,
              help="Key to stratify by and report per value ('' to switch off).")
@click.option("--threshold", type=float, default=0.01, show_default=True,
              help="Fitted gain per doubling below which returns are diminishing.")
@click.option("--fraction", type=float, default=0.95, show_default=True, help="Report the size reaching this share of the plateau.")
def command(**options: Any) -> None:
    """Train on nested, stratified subsets of growing size; fit a saturating curve; find where gains stop.

    Each (size, seed) run trains until the eval loss stops improving (--patience evals, at most
    --max-epochs) and keeps its best weights, then is scored on one fixed eval set (--eval, or a
    held-out share of --data); --steps or --epochs give every size one fixed budget instead. The
    curve is fitted from the untrained model's score (its floor) to a plateau; the report gives the
    knee (a doubling gains less than --threshold) and the size covering --fraction of the gain, with
    bootstrap intervals over seeds, warns about runs that had not converged, and names the labels
    still rising at the largest size. Writes runs.jsonl, report.json and saturation.png; rerunning
    skips finished runs.

    Example:

    \b
        datacraft saturation --data train.jsonl --eval eval.jsonl --model ./my-model \\
            -o runs/sat --sizes 50,100,200,400,800,1600 --seeds 3 --metric exact_match
    """
    from datacraft.train.saturation import SaturationConfig, format_report

    steps, epochs = options.pop("steps"), options.get("epochs")
    if steps is not None and epochs is not None:
        raise ConfigError("--steps and --epochs are two budgets: give one")
    budget = "steps" if steps is not None else "epochs" if epochs is not None else "converge"
    sat = SaturationConfig(sizes=_sizes(options.pop("sizes")), seeds=options.pop("seeds"), budget=budget,
                           steps=steps or 200, epochs=epochs or 3.0, label=options.pop("label") or None,
                           threshold=options.pop("threshold"), fraction=options.pop("fraction"),
                           patience=options.pop("patience"), max_epochs=options.pop("max_epochs"),
                           evals_per_epoch=options.pop("evals_per_epoch"), stop_on=options.pop("stop_on"),
                           bootstrap=options.pop("bootstrap"))
    output_dir, data, eval_data = options.pop("output_dir"), options.pop("data"), options.pop("eval_data")
    reading = split_read_options(options)
    config = build_config(options)
    prepare()
    from datacraft.train.run import saturation_model

    def on_run(run: dict[str, Any]) -> None:
        state = {True: ", converged", False: ", NOT converged (hit --max-epochs)"}.get(run.get("converged"), "")
        echo_err(f"size {run['size']:>6} seed {run['seed']}: {run['score']:.4f} ({run['seconds']:.1f} s, "
                 f"{run.get('epochs', 0):g} epochs{state})")

    report = saturation_model(list(data), list(eval_data), output_dir, config, sat, read_options=reading,
                              progress=sys.stderr.isatty(), on_run=on_run)
    if report["reused_runs"]:
        echo_err(f"reused {report['reused_runs']} finished run(s) from {output_dir}/runs.jsonl")
    click.echo(format_report(report))
    click.echo(f"wrote {output_dir}/report.json, {report['plot']}")
