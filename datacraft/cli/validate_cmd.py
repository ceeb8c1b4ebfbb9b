"""`datacraft validate`: check every record against a schema and LLaMA-Factory's rules."""

from __future__ import annotations

import click
import orjson

from datacraft.cli.base import deprecated, input_options, read_options, strict_option
from datacraft.errors import ConfigError
from datacraft.io.writers import atomic_write
from datacraft.runner import check_paths
from datacraft.validate import validate_files
from datacraft.validate.language import LANGS, language_warnings


@click.command("validate")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--schema", default="auto", show_default=True, metavar="NAME|PATH",
              help="auto (each record's own form), alpaca, sharegpt, openai, or a JSON Schema (Draft 2020-12) file.")
@click.option("--forbid-extra", is_flag=True,
              help="Also fail on unknown top-level fields (other than the schema's, id and meta) and on "
                   "whitespace-only strings.")
@strict_option
@click.option("--report", "report_path", default=None, metavar="PATH",
              help="Write counts per error kind and per field, per file, as JSON.")
@click.option("--max-errors", type=click.IntRange(min=0), default=50, show_default=True,
              help="Print at most this many errors (all are counted).")
@click.option("--lang", type=click.Choice(LANGS), default=None,
              help="Warn about each record whose answer is not in this language (warnings do not fail the run).")
@input_options
def command(files: tuple[str, ...], schema: str, forbid_extra: bool, strict: bool, report_path: str | None, max_errors: int,
            fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None,
            lang: str | None = None) -> None:
    """Check every record of FILE... (`-` for stdin) against a schema.

    Prints `path:line: field: message` per problem, then `N records, M invalid`. Exits 0 when every
    record is valid, 1 when any is not (or a file holds no records), 2 on bad options or an
    unreadable file. Invalid JSON and non-object lines are reported at their line.

    Schemas: `auto` (default: each record by its own form, Alpaca, ShareGPT or OpenAI, and
    preference records by LLaMA-Factory's ranking rules); `alpaca`; `sharegpt`, LLaMA-Factory's default layout (`conversations` of
    {from, value}, from = human, gpt, observation, function_call or system; role/content turns are
    the `openai` layout); `openai` (`messages` of {role, content}, role = system, user, assistant or
    tool); or a path to any JSON Schema file, checked by jsonschema alone.

    Beyond the schema, validate applies the rules that make LLaMA-Factory silently drop a sample:
    history entries must be [user, assistant] pairs of strings; after an optional leading system
    turn, turns alternate user/observation and assistant/function_call and end on the assistant.
    With a named schema, preference (chosen/rejected) records are reported as such; `auto` checks
    them as ranking data: the prompt ends on the user's side and both answers are non-empty.

    Extra fields are fine by default, because LLaMA-Factory ignores extra columns; --forbid-extra
    makes them errors (id and meta, the provenance fields, are always allowed), and whitespace-only
    strings too. --strict, as in every command, makes the first unreadable line fatal (exit 2);
    for now it also implies --forbid-extra, its old meaning here, with a note on stderr.

    Example:

    \b
        datacraft validate train.jsonl
        datacraft validate chats.json --schema sharegpt --report report.json
        datacraft clean raw.jsonl -o - | datacraft validate - --forbid-extra
    """
    check_paths(files, {"--report": report_path})
    if lang and "-" in files:
        raise ConfigError("--lang reads the files a second time, so it cannot check stdin; save the records to a file")
    if strict and not forbid_extra:
        deprecated("validate --strict still forbids extra fields, as it used to; that check is now --forbid-extra, "
                   "and --strict will soon mean only that the first unreadable line is fatal")
        forbid_extra = True
    report = validate_files(list(files), schema=schema, forbid_extra=forbid_extra, strict=strict, max_errors=max_errors,
                            read_options=read_options(fmt, encoding, mapping, split))
    for issue in report.errors:
        click.echo(str(issue))
    more = report.total_errors - len(report.errors)
    if more:
        click.echo(f"... and {more} more error{'s' if more != 1 else ''} ({report.total_errors} in total)")
    click.echo(report.summary())
    if lang:
        warned = 0
        for warning in language_warnings(files, lang, read_options(fmt, encoding, mapping, split)):
            click.echo(warning)
            warned += 1
        click.echo(f"{warned} record{'s' if warned != 1 else ''} with an answer not in {lang}")
    if report_path:
        with atomic_write(report_path, "wb") as handle:
            handle.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    if not report.ok:
        raise click.exceptions.Exit(1)
