"""--system, --system-mode, --system-if-missing: a dataset-wide system prompt, for any command that writes records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def system_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the three system-prompt options to a command."""
    fn = click.option("--system-if-missing", is_flag=True,
                      help="Leave records that already have a system prompt as they are.")(fn)
    fn = click.option("--system-mode", type=click.Choice(["set", "prepend"]), default="set", show_default=True,
                      help="set: replace the record's system prompt; prepend: put --system before it.")(fn)
    fn = click.option("--system", default=None, metavar="TEXT",
                      help='System prompt for every record, e.g. --system "请输出中文" to steer the answer language.')(fn)
    return fn
