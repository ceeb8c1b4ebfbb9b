"""`datacraft stats`: describe a dataset in numbers and plots."""

from __future__ import annotations

import json

import click

from datacraft.cli.base import input_options, read_options
from datacraft.errors import NothingLeft
from datacraft.io.writers import atomic_write
from datacraft.runner import check_paths
from datacraft.stats import compute_stats, format_summary, write_html_report


@click.command("stats")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), default=None,
              help="Write a self-contained HTML report with plots.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Write the statistics as JSON ('-' for stdout).")
@click.option("--tokenizer", default=None, metavar="PATH_OR_NAME",
              help="Also count tokens with this transformers tokenizer (loaded offline; skipped with a note if it cannot be).")
@click.option("--no-near", is_flag=True, help="Skip near-duplicate clustering (the slowest part).")
@input_options
def command(inputs: tuple[str, ...], html_path: str | None, json_path: str | None, tokenizer: str | None,
            no_near: bool, fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None) -> None:
    """Print counts, length distributions, language mix, duplicate rates and top instruction openings.

    Reads every form (Alpaca, ShareGPT, OpenAI messages; preference and KTO records). Lengths are
    in characters (and tokens with --tokenizer) as min/p50/p90/p99/max: the Alpaca view (last
    prompt, its answer, earlier turns; a preference record's answer is its chosen one), then every
    turn by role. Input, system and history are measured over the records that have them. Also
    turns per conversation, tool calls, chosen-vs-rejected length bias and KTO tags.

    Example:

        datacraft stats train.jsonl --html report.html --json stats.json
    """
    check_paths(inputs, {"--json": json_path, "--html": html_path})
    stats = compute_stats(list(inputs), tokenizer=tokenizer, near_duplicates=not no_near,
                          read_options=read_options(fmt, encoding, mapping, split))
    if json_path == "-":
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        click.echo(format_summary(stats))
    if json_path and json_path != "-":
        with atomic_write(json_path, "w", encoding="utf-8") as handle:
            json.dump(stats, handle, ensure_ascii=False, indent=2)
    if not stats["records"]:  # the counts say why; a report of nothing is not written
        raise NothingLeft(f"stats: no record of a known form out of {stats['unrecognised'] + stats['unreadable']} read "
                          f"({stats['unrecognised']} of no known shape, {stats['unreadable']} unreadable rows); "
                          "check --format and --map")
    if html_path:
        write_html_report(stats, html_path)
        if json_path != "-":  # stdout holds the JSON alone
            click.echo(f"report: {html_path}")
