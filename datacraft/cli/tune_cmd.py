"""`datacraft tune`: Bayesian hyper-parameter search with early pruning."""

from __future__ import annotations

from typing import Any

import click

from datacraft.cli.base import echo_err
from datacraft.cli.train_cmd import build_config, prepare, split_read_options, training_options
from datacraft.errors import ConfigError


def _pair(text: str, kind: type, name: str) -> tuple[Any, Any]:
    try:
        low, high = (kind(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"{name} {text}: expected LOW,HIGH") from None
    return low, high


@click.command("tune")
@training_options(exclude=("learning_rate", "epochs", "max_steps", "lora_r", "lora_alpha", "save_every", "tensorboard"))
@click.option("--trials", type=int, default=20, show_default=True, help="Trials to run, pruned ones included.")
@click.option("--early", type=float, default=0.2, show_default=True, help="Share of training after which a trial is judged.")
@click.option("--objective", type=click.Choice(["eval_loss", "score"]), default="eval_loss", show_default=True,
              help="Minimise eval loss, or maximise the --metric score (slower: it generates).")
@click.option("--lr-range", default="1e-5,1e-3", show_default=True, help="Learning-rate range (log scale).")
@click.option("--ranks", default="4,8,16,32,64", show_default=True, help="LoRA ranks to try.")
@click.option("--epochs-range", default="1,5", show_default=True, help="Epoch range (integers).")
@click.option("--startup-trials", type=int, default=3, show_default=True, help="Trials that finish before pruning starts.")
@click.option("--tpe-startup", type=int, default=4, show_default=True,
              help="Random trials before TPE starts modelling (optuna's default is 10).")
@click.option("--prune/--no-prune", default=True, show_default=True,
              help="Stop weak trials early; --no-prune lets all finish, so the early-vs-final correlation covers every trial.")
def command(**options: Any) -> None:
    """Search learning rate, LoRA rank/alpha and epochs with optuna (TPE), pruning weak trials early.

    Every trial is judged at --early of its steps and pruned when worse than the median of earlier
    trials there (pruned trials record the step and time they stopped at). The study is kept in
    OUTPUT_DIR/study.db (SQLite): rerunning with the same settings resumes it up to --trials, and
    `optuna-dashboard sqlite:///OUTPUT_DIR/study.db` opens it. Prints the best settings and how well
    the early score predicted the final one (Spearman, with n: every trial that reached the
    checkpoint and finished); writes trials.jsonl and best.json.

    Example:

        datacraft tune --data train.jsonl --model ./my-model -o runs/tune --trials 20
    """
    from datacraft.train.tune import TuneConfig

    lr_min, lr_max = _pair(options.pop("lr_range"), float, "--lr-range")
    ep_min, ep_max = _pair(options.pop("epochs_range"), int, "--epochs-range")
    try:
        ranks = [int(r) for r in options.pop("ranks").split(",")]
    except ValueError:
        raise ConfigError("--ranks: expected comma-separated integers, e.g. 4,8,16") from None
    tune = TuneConfig(trials=options.pop("trials"), early=options.pop("early"), objective=options.pop("objective"),
                      lr_min=lr_min, lr_max=lr_max, ranks=ranks, epochs_min=ep_min, epochs_max=ep_max,
                      startup_trials=options.pop("startup_trials"), tpe_startup=options.pop("tpe_startup"),
                      prune=options.pop("prune"), seed=options.get("seed") or 42)
    output_dir, data, eval_data = options.pop("output_dir"), options.pop("data"), options.pop("eval_data")
    reading = split_read_options(options)
    config = build_config(options)
    prepare()
    from datacraft.train.deps import require_train
    from datacraft.train.tune import tune_model

    require_train("optuna")
    from datacraft.train.tune import startup_note

    note = startup_note(tune)
    if note:
        echo_err(f"warning: {note}")

    def on_trial(row: dict[str, Any]) -> None:
        early = f"{row['early']:.4f}" if row.get("early") is not None else "-"
        final = f"{row['final']:.4f}" if row.get("final") is not None else "-"
        stop = f" at step {row['stopped_at_step']}" if row.get("stopped_at_step") is not None else ""
        echo_err(f"trial {row['trial']}: {row['state']}{stop}, early {early}, final {final}, "
                 f"{row.get('seconds', 0):.1f} s, {row['params']}")

    report = tune_model(list(data), output_dir, config, tune, eval_data=list(eval_data), read_options=reading,
                        on_trial=on_trial)
    if report["resumed_trials"]:
        echo_err(f"resumed the study in {report['study']}: {report['resumed_trials']} trial(s) already done")
    click.echo(f"{report['trials']} trials: {report['completed']} completed, {report['pruned']} pruned "
               f"(judged at {report['early_fraction']:.0%} of training)")
    if report["best"]:
        best = report["best"]
        click.echo(f"best {report['objective']}: {best['value']:.4f} (trial {best['trial']}) with {best['params']}")
    rho, n = report["early_final_spearman"], report["early_final_n"]
    pruned = report["reached_checkpoint"] - n
    scope = f"n={n} trials that reached the checkpoint and finished"
    if pruned:
        scope += f"; {pruned} pruned there have no final score (--no-prune includes them)"
    click.echo("early vs final score, Spearman: " + (f"{rho:.3f} ({scope})" if rho is not None
                                                     else f"n/a: fewer than 3 pairs ({scope})"))
    if report["note"]:
        click.echo(f"note: {report['note']}")
    click.echo(f"wrote {output_dir}/trials.jsonl, {output_dir}/best.json, {report['study']}")
