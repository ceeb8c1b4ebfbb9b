"""`datacraft dedupe`: remove exact and near-duplicate records, each drop logged with the record it copies."""

from __future__ import annotations

import click

from datacraft.cli.base import input_options, read_options, stage_summary
from datacraft.dedupe import dedupe_file, load_dedupe_config
from datacraft.errors import ConfigError


@click.command("dedupe")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("-o", "--output", required=True, metavar="OUT", help="Kept records, JSONL (`-` for stdout).")
@click.option("--rejects", default=None, metavar="PATH", help="Write each dropped record with reason and dup_of.")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Estimated Jaccard similarity that makes a near-duplicate (default 0.7).")
@click.option("--keep", type=click.Choice(["first", "longest"]), default=None,
              help="Which record of a duplicate group survives (default: first).")
@click.option("--against", multiple=True, metavar="REF",
              help="Drop records that nearly copy this reference data (e.g. seeds or an eval set); repeatable.")
@click.option("--stats", "stats_path", default=None, metavar="PATH", help="Write the counts per stage and reason as JSON.")
@click.option("--config", "config_path", default=None, metavar="PATH", help="dedupe.yaml: DedupeConfig settings.")
@click.option("--strict", is_flag=True, help="Stop at the first unreadable input line instead of rejecting it.")
@input_options
def command(inputs: tuple[str, ...], output: str, rejects: str | None, threshold: float | None,
            keep: str | None, against: tuple[str, ...], stats_path: str | None, config_path: str | None,
            strict: bool, fmt: str | None, encoding: str | None, mapping: tuple[str, ...],
            split: str | None) -> None:
    """Remove exact and near-duplicate records from IN... (`-` for stdin) into OUT.

    Exact: same text after NFKC, casefold, Traditional->Simplified Chinese and dropping punctuation
    and whitespace (math and code symbols such as + - ^ < > = stay). Near: MinHash + LSH estimate
    of the Jaccard similarity of word 3-grams (character 2-grams for Chinese, Japanese, Korean) at
    or above --threshold, with the answers alone at least half alike (config: answer_threshold).
    Records are taken in input order (--keep longest: longest first); each is dropped only when it
    is a near-duplicate of a record that survives, which `dup_of` in --rejects names (or the
    --against reference it copies: reason copies_reference; references are never output).
    Running it again on OUT removes nothing.

    Example:

    \b
        datacraft dedupe raw.jsonl -o unique.jsonl --rejects dups.jsonl
        datacraft dedupe gen.jsonl -o new.jsonl --against seeds.jsonl --threshold 0.7 --stats s.json
    """
    if stats_path and stats_path in (output, rejects):
        raise ConfigError(f"--stats {stats_path} is also the output or rejects file; give it another name")
    if rejects and rejects == output and output != "-":
        raise ConfigError(f"--rejects {rejects} is also the output file; give it another name")
    config = load_dedupe_config(config_path, threshold=threshold, keep=keep)
    result = dedupe_file(list(inputs), output, rejects=rejects, config=config, against=list(against),
                         read_options=read_options(fmt, encoding, mapping, split), stats=stats_path,
                         strict=strict)
    to_stderr = output == "-"
    for line in stage_summary(result, output, rejects):
        click.echo(line, err=to_stderr)
