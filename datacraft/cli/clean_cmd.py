"""`datacraft clean`: normalise, filter and deduplicate records, with every drop in a rejects file."""

from __future__ import annotations

import click

from datacraft.clean import clean_file, default_config_yaml, load_clean_config
from datacraft.clean.system_prompt import system_prompt_step
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
from datacraft.cli.system_options import system_options
from datacraft.runner import check_paths, write_json


def _print_config(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(default_config_yaml(), nl=False)
        ctx.exit()


@click.command("clean")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@output_option("Cleaned records")
@rejects_option
@config_option("clean.yaml (or .json); see --print-config.")
@stats_option
@click.option("--against", multiple=True, metavar="REF",
              help="Also drop records that nearly copy this reference data (e.g. an eval set); repeatable.")
@click.option("--no-dedupe", is_flag=True, help="Skip exact and near-duplicate removal.")
@strict_option
@click.option("--print-config", is_flag=True, expose_value=False, is_eager=True, callback=_print_config,
              help="Print the default configuration (documented YAML) and exit.")
@system_options
@input_options
def command(inputs: tuple[str, ...], output: str, rejects: str | None, config_path: str | None,
            stats_path: str | None, against: tuple[str, ...], no_dedupe: bool, strict: bool,
            fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None,
            system: str | None = None, system_mode: str = "set", system_if_missing: bool = False) -> None:
    """Clean IN... (`-` for stdin) into OUT: normalise text, drop bad records, remove duplicates.

    Stages: read -> normalize (Unicode, mojibake, HTML junk, full-width, whitespace, answer labels
    and wrapping quotes) -> filter (empty or bad fields, lengths, echoes of the instruction,
    repetition, junk symbols, refusals, optional blacklist and languages) -> exact_dedupe ->
    near_dedupe. Every form is read (Alpaca, ShareGPT with tool calls, OpenAI messages,
    preference) and written back as it came; answer rules judge assistant turns, prompt rules user
    turns, and tool-call arguments and observations are left as they are. Prints counts per stage and reason (to stderr when OUT is `-`); kept + rejected
    always equals read. `--print-config` shows every setting with its default.

    Example:

    \b
        datacraft clean raw.jsonl -o clean.jsonl --rejects rejects.jsonl --stats stats.json
        datacraft clean --print-config > clean.yaml
        cat raw.jsonl | datacraft clean - -o - --no-dedupe | datacraft validate -
    """
    check_paths(inputs, {"output": output, "--rejects": rejects, "--stats": stats_path}, references=against)
    config = load_clean_config(config_path)
    if no_dedupe:
        config = config.model_copy(update={"dedupe": None})
    result = clean_file(list(inputs), output, rejects=rejects, config=config, against=list(against),
                        read_options=read_options(fmt, encoding, mapping, split), strict=strict,
                        transform=system_prompt_step(system, mode=system_mode, if_missing=system_if_missing))
    if stats_path:
        write_json(stats_path, result)
    print_summary(result, output, rejects)
