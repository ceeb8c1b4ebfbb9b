"""The `datacraft` command line: a Click group whose commands are thin wrappers over the library."""

from __future__ import annotations

import click

from datacraft import __version__
from datacraft.cli.base import DatacraftGroup

# One module per command (datacraft/cli/<name>_cmd.py, defining `command`), imported only when
# the command runs, so `datacraft clean` does not pay for torch or openai.
COMMANDS = ("ingest", "generate", "review", "augment", "clean", "dedupe", "validate", "export", "stats",
            "run", "train", "diagnose", "saturation", "tune")
COMMANDS += ("decontaminate",)  # issue 15
COMMANDS += ("mix",)  # issue 15
COMMANDS += ("merge",)  # issue 12


@click.group(cls=DatacraftGroup, commands_from=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="datacraft")
def cli() -> None:
    """Build fine-tuning datasets for LLMs: ingest, generate, augment, clean, dedupe, validate, export, train.

    Example:

        datacraft clean raw.jsonl -o clean.jsonl --rejects rejects.jsonl

        datacraft export clean.jsonl --to sharegpt --out-dir out/
    """
