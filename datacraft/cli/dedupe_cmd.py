"""`datacraft dedupe`: remove exact and near-duplicate records, each drop logged with the record it copies."""

from __future__ import annotations

import click

from datacraft.cli.base import (
    config_option,
    input_options,
    output_option,
    print_summary,
    read_options,
    rejects_option,
    stats_option,
    strict_option,
)
from datacraft.dedupe import dedupe_file, load_dedupe_config
from datacraft.runner import check_paths


@click.command("dedupe")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@output_option("Kept records")
@rejects_option
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Estimated Jaccard similarity that makes a near-duplicate (default 0.7).")
@click.option("--keep", type=click.Choice(["first", "longest"]), default=None,
              help="Which record of a duplicate group survives (default: first).")
@click.option("--against", multiple=True, metavar="REF",
              help="Drop records that nearly copy this reference data (e.g. seeds or an eval set); repeatable.")
@stats_option
@config_option("dedupe.yaml: DedupeConfig settings.")
@strict_option
@input_options
def command(inputs: tuple[str, ...], output: str, rejects: str | None, threshold: float | None,
            keep: str | None, against: tuple[str, ...], stats_path: str | None, config_path: str | None,
            strict: bool, fmt: str | None, encoding: str | None, mapping: tuple[str, ...],
            split: str | None) -> None:
    """Remove exact and near-duplicate records from IN... (`-` for stdin) into OUT.

    Records of any form (Alpaca, ShareGPT with tool calls, OpenAI messages, preference) are
    compared as whole conversations: system prompt, every turn, tool calls and tools (`fields` in
    --config chooses, e.g. [instruction, input, output]). Exact: same text after NFKC, casefold,
    Traditional->Simplified Chinese and dropping punctuation and whitespace (math and code symbols
    such as + - ^ < > = stay). Near: MinHash + LSH estimate of the Jaccard similarity of word
    3-grams (character 2-grams for Chinese, Japanese, Korean) at or above --threshold, with the
    answers alone at least half alike (config: answer_threshold). Records are taken in input order
    (--keep longest: longest first); each is dropped only when it is a near-duplicate of a record
    that survives, which `dup_of` in --rejects names (or the --against reference it copies: reason
    copies_reference; references are never output). Running it again on OUT removes nothing.

    Example:

    \b
        datacraft dedupe raw.jsonl -o unique.jsonl --rejects dups.jsonl
        datacraft dedupe gen.jsonl -o new.jsonl --against seeds.jsonl --threshold 0.7 --stats s.json
    """
    check_paths(inputs, {"output": output, "--rejects": rejects, "--stats": stats_path}, references=against)
    config = load_dedupe_config(config_path, threshold=threshold, keep=keep)
    result = dedupe_file(list(inputs), output, rejects=rejects, config=config, against=list(against),
                         read_options=read_options(fmt, encoding, mapping, split), stats=stats_path,
                         strict=strict)
    print_summary(result, output, rejects)
