"""`datacraft run`: run a batch pipeline file."""

from __future__ import annotations

from pathlib import Path

import click

from datacraft.cli.base import echo_err, stage_lines
from datacraft.executors import make_executor
from datacraft.pipeline import run_pipeline


@click.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Redo every stage, even those whose inputs are unchanged.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the final totals.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where the stages run: this process, or a Ray cluster (pip install 'datacraft[ray]').")
@click.option("--address", default=None, help="With --executor ray: an existing cluster (e.g. ray://head:10001, "
              "auto); default: start a local one.")
@click.option("--workers", type=int, default=None, help="With --executor ray: CPUs of the local cluster "
              "(default: all), or at most this many tasks at once on --address.")
def command(config: str, force: bool, quiet: bool, executor: str, address: str | None, workers: int | None) -> None:
    """Run a pipeline file: read -> clean -> dedupe -> validate -> export (-> stats).

    Every stage writes its records and rejects under the pipeline's `output_dir`, with a
    `manifest.json` (input hashes, config, versions, counts, timings). A rerun skips the stages
    whose inputs and settings are unchanged.

    Example:

        datacraft run data/pipeline.yaml

        datacraft run data/pipeline.yaml --executor ray --workers 2
    """
    click.get_current_context().meta["datacraft.resumable"] = True  # finished stages are skipped on a rerun
    with make_executor(executor, address=address, workers=workers) as runner:
        manifest = run_pipeline(config, force=force, progress=None if quiet else echo_err, executor=runner)
    out_dir = Path(config).resolve().parent / manifest["config"]["output_dir"]
    if not quiet:
        for stage in manifest["stages"]:
            note = "  (unchanged, skipped)" if stage.get("skipped") else f"  ({stage.get('seconds', 0):.2f}s)"
            for line in stage_lines(stage["label"], stage.get("counts") or {}, note):
                click.echo(line)
    totals = manifest["totals"]
    click.echo(f"total: read {totals['read']}, kept {totals['kept']}, rejected {totals['rejected']}"
               f" -> {_relative(out_dir)}")


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
