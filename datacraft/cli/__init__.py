"""The `datacraft` command line: a Click group whose commands are thin wrappers over the library."""

from __future__ import annotations

import importlib
import inspect

import click

from datacraft import __version__
from datacraft.cli.base import DatacraftGroup

# One module per command; each defines a Click command object named `command`.
COMMANDS = ("ingest", "validate", "clean", "dedupe", "export", "stats", "run", "generate", "review", "augment", "train", "diagnose", "saturation", "tune")


@click.group(cls=DatacraftGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="datacraft")
def cli() -> None:
    """Build fine-tuning datasets for LLMs: read, clean, dedupe, validate, export.

    Example:

        datacraft clean raw.jsonl -o clean.jsonl --rejects rejects.jsonl

        datacraft export clean.jsonl --format sharegpt --out-dir out/
    """


for _name in COMMANDS:
    try:
        _module = importlib.import_module(f"datacraft.cli.{_name}_cmd")
    except ModuleNotFoundError as _exc:  # a command still being written is simply absent
        if _exc.name != f"datacraft.cli.{_name}_cmd":
            raise
        continue
    _command = _module.command
    if _command.short_help is None and _command.help:
        # Click cuts the short help at the first ". ", which "IN... (`-` for stdin)" contains.
        _command.short_help = " ".join(inspect.cleandoc(_command.help).split("\n\n")[0].split()).rstrip(".")
    if _command.help:
        _command.help = inspect.cleandoc(_command.help)
        # Indented blocks are examples: keep their lines as written instead of rewrapping them.
        _command.help = "\n\n".join(
            f"\b\n{para}" if para.startswith("    ") and not para.startswith("\b") else para
            for para in _command.help.split("\n\n"))
    cli.add_command(_command)
