"""Typed errors. The CLI turns each into `Error: ...` and a non-zero exit in one place."""

from __future__ import annotations


class DatacraftError(Exception):
    """Base class for every error datacraft reports to the user."""

    exit_code = 2


class InputError(DatacraftError):
    """A problem with an input file: `path:line: message`."""

    def __init__(self, path: str, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ConfigError(DatacraftError):
    """A bad option or config-file entry."""


class SchemaError(DatacraftError):
    """An unknown or unreadable schema."""
