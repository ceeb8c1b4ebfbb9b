"""`datacraft run`: run a batch pipeline file."""

from __future__ import annotations

from pathlib import Path

import click

from datacraft.cli.base import echo_err, stage_lines
from datacraft.pipeline import run_pipeline


@click.command("run")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Redo every stage, even those whose inputs are unchanged.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the final totals.")
def command(config: str, force: bool, quiet: bool) -> None:
    """Run a pipeline file: read -> clean -> dedupe -> validate -> export (-> stats).

    Every stage writes its records and rejects under the pipeline's `output_dir`, with a
    `manifest.json` (input hashes, config, versions, counts, timings). A rerun skips the stages
    whose inputs and settings are unchanged.

    Example:

        datacraft run data/pipeline.yaml
    """
    click.get_current_context().meta["datacraft.resumable"] = True  # finished stages are skipped on a rerun
    manifest = run_pipeline(config, force=force, progress=None if quiet else echo_err)
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
