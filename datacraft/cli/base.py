"""Shared CLI plumbing: error handling in one place, common input options, stderr progress."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from datacraft.errors import DatacraftError
from datacraft.io.readers import FORMATS, parse_mapping


class DatacraftGroup(click.Group):
    """Turns library errors into `Error: ...` and an exit code instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DatacraftError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted: no partial output was written; rerun to resume.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(0)


def input_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--format, --encoding, --map, --split: how to read the inputs."""
    fn = click.option("--split", default=None, help="Split to read from a `datasets` folder (default: train).")(fn)
    fn = click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
                      help="Map a column to an Alpaca field, e.g. --map instruction=question (repeatable).")(fn)
    fn = click.option("--encoding", default=None, help="Input text encoding (default: detected; e.g. gb18030).")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                      help="Input format (default: from the file name).")(fn)
    return fn


def read_options(fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None) -> dict[str, Any]:
    """The keyword arguments `iter_records` takes, from the input options."""
    return {"fmt": fmt, "encoding": encoding, "mapping": parse_mapping(mapping), "split": split}


def echo_err(message: str) -> None:
    click.echo(message, err=True)
