"""Shared CLI plumbing: error handling in one place, common input options, stderr progress."""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from typing import Any

import click

from datacraft.errors import EXIT_OS, DatacraftError, NothingLeft, describe_os_error
from datacraft.io.readers import FORMATS, parse_mapping


class DatacraftGroup(click.Group):
    """Loads commands lazily and turns library errors into `Error: ...` and an exit code."""

    def __init__(self, *args: Any, commands_from: tuple[str, ...] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._lazy = commands_from

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self._lazy, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self._lazy:
            module = importlib.import_module(f"datacraft.cli.{cmd_name}_cmd")
            self.add_command(_tidy_help(module.command), cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DatacraftError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            # Only commands with a journal (a crawl, generate, `run`) set "resumable": elsewhere a rerun starts over.
            resume = " Rerun to resume where it stopped." if ctx.meta.get("datacraft.resumable") else ""
            click.echo(f"Interrupted: no partial output was written.{resume}", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(0)
        except OSError as exc:  # full disk, read-only folder, permissions: the system's word, not a traceback
            click.echo(f"Error: {describe_os_error(exc)}", err=True)
            sys.exit(EXIT_OS)


def _tidy_help(command: click.Command) -> click.Command:
    if command.help:
        command.help = inspect.cleandoc(command.help)
        if command.short_help is None:
            # Click cuts the short help at the first ". ", which "IN... (`-` for stdin)" contains.
            command.short_help = " ".join(command.help.split("\n\n")[0].split()).rstrip(".")
        # Indented blocks are examples: keep their lines as written instead of rewrapping them.
        command.help = "\n\n".join(
            f"\b\n{para}" if para.startswith("    ") and not para.startswith("\b") else para
            for para in command.help.split("\n\n"))
    return command


# The shared options' help: one text, one meaning, in every command (tests/badinput/test_option_vocabulary.py).
FORMAT_HELP = "Input format (default: from the file name)."
STRICT_HELP = "Stop (exit 2) at the first unreadable input line instead of rejecting it."
REJECTS_HELP = "Write every dropped record with its stage, reason and detail (JSONL)."
STATS_HELP = "Write the counts per stage and reason as JSON."
LAYOUTS = ("alpaca", "sharegpt", "openai")  # record layouts: what export writes (`--to`), never an input format


class _InputFormat(click.Choice):
    """The input formats; `legacy` values (export's old `--format LAYOUT`) are accepted but not listed."""

    def __init__(self, legacy: tuple[str, ...] = ()):
        super().__init__(FORMATS)
        self.legacy = legacy

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.legacy:
            return value
        return super().convert(value, param, ctx)


def input_options(fn: Callable[..., Any] | None = None, *, legacy_formats: tuple[str, ...] = ()) -> Any:
    """--format, --encoding, --map, --split: how to read the inputs (`legacy_formats`: see _InputFormat)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option("--split", default=None, help="Split to read from a `datasets` folder (default: train).")(fn)
        fn = click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
                          help="Map a column to an Alpaca field, e.g. --map instruction=question (repeatable).")(fn)
        fn = click.option("--encoding", default=None, help="Input text encoding (default: detected; e.g. gb18030).")(fn)
        return click.option("--format", "fmt", type=_InputFormat(legacy_formats), default=None, help=FORMAT_HELP)(fn)

    return decorate(fn) if fn is not None else decorate


def deprecated(message: str) -> None:
    """One line on stderr for an option or key that still works under its old name."""
    click.echo(f"note: {message}", err=True)


def output_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """-o/--output: the record file a command writes (`-` for stdout)."""
    return click.option("-o", "--output", required=True, metavar="OUT", help=f"{what}, JSONL (`-` for stdout).")


def rejects_option(fn: Callable[..., Any] | None = None, *, more: str = "") -> Any:
    """--rejects: every dropped record with its stage, reason and detail (`more`: what this command adds)."""
    option = click.option("--rejects", default=None, metavar="PATH", help=f"{REJECTS_HELP} {more}".strip())
    return option(fn) if fn is not None else option


def stats_option(fn: Callable[..., Any] | None = None, *, more: str = "") -> Any:
    """--stats: the run's counts per stage and reason, as JSON (`more`: what this command adds)."""
    option = click.option("--stats", "stats_path", default=None, metavar="PATH", help=f"{STATS_HELP} {more}".strip())
    return option(fn) if fn is not None else option


def config_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--config: the command's settings file (YAML or JSON; unknown keys are an error)."""
    return click.option("--config", "config_path", default=None, metavar="PATH", help=what)


def strict_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--strict: the first unreadable input line is fatal instead of rejected."""
    return click.option("--strict", is_flag=True, help=STRICT_HELP)(fn)


def read_options(fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None) -> dict[str, Any]:
    """The keyword arguments `iter_records` takes, from the input options."""
    return {"fmt": fmt, "encoding": encoding, "mapping": parse_mapping(mapping), "split": split}


def echo_err(message: str) -> None:
    click.echo(message, err=True)


def stage_lines(name: str, counts: dict[str, Any], note: str = "") -> list[str]:
    """One stage's line (in, kept, dropped) and a line per drop reason: the one layout every command prints."""
    if "read" not in counts or "kept" not in counts:  # an output stage (stats): its own numbers
        body = ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(v, (int, float)))
        return [f"  {name:<13} {body}{note}"]
    lines = [f"  {name:<13} in {counts['read']:>7}  kept {counts['kept']:>7}  dropped {counts['rejected']:>6}{note}"]
    lines.extend(f"      {reason:<28} {n:>6}" for reason, n in counts.get("reasons", {}).items())
    return lines


def stage_summary(result: dict[str, Any], output: str, rejects: str | None) -> list[str]:
    """The short summary of a staged run: totals, then each stage with its drop reasons."""
    lines = [f"read {result['read']}, kept {result['kept']}, rejected {result['rejected']}"]
    for name, stage in result["stages"].items():
        lines.extend(stage_lines(name, stage))
    if result.get("normalized"):
        changed = ", ".join(f"{step} {n}" for step, n in result["normalized"].items())
        lines.append(f"  normalized: {changed}")
    target = "stdout" if output == "-" else output
    lines.append(f"wrote {result['kept']} records to {target}" + (f", rejects to {rejects}" if rejects else ""))
    return lines


def print_summary(result: dict[str, Any], output: str, rejects: str | None) -> None:
    """Print `stage_summary`, on stderr when the records go to stdout."""
    for line in stage_summary(result, output, rejects):
        click.echo(line, err=output == "-")
    if result["read"] and not result["kept"]:
        # A batch job that kept nothing must not look like a success.
        where = f"see {rejects}" if rejects else "pass --rejects to see why"
        raise NothingLeft(f"{output}: all {result['read']} records were rejected ({where})")
