"""Typed errors. The CLI turns each into `Error: ...` and a non-zero exit in one place.

Exit codes: 0 done; 1 ran but produced nothing useful (or `validate` found invalid records);
2 bad input or option (`path:line: what is wrong`); 3 the system refused (disk full, permission
denied, read-only folder, a Ray cluster that is unreachable or failed); 130 interrupted.
"""

from __future__ import annotations

import errno
import os

EXIT_OS = 3
_OS_HINTS = {
    errno.ENOSPC: "the disk is full; free some space or write elsewhere",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.EACCES: "permission denied; check the folder's permissions or write elsewhere",
    errno.EPERM: "not permitted; check the folder's permissions or write elsewhere",
    errno.EDQUOT: "the disk quota is exceeded; free some space or write elsewhere",
    errno.EFBIG: "the file is over the size limit (ulimit -f or the file system); write elsewhere",
}


def describe_os_error(exc: OSError) -> str:
    """`path: what the system said; what to do` for an OSError the CLI reports.

    >>> describe_os_error(OSError(28, "No space left on device", "/dev/full"))
    '/dev/full: No space left on device (the disk is full; free some space or write elsewhere)'
    """
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or str(exc) or type(exc).__name__
    hint = _OS_HINTS.get(exc.errno or 0)
    text = f"{what} ({hint})" if hint else what
    return f"{os.fsdecode(where)}: {text}" if where != "" else text


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


class NothingLeft(DatacraftError):
    """The job ran, but nothing useful came out of it (every record was rejected)."""

    exit_code = 1


class ClusterError(DatacraftError):
    """The Ray cluster could not be reached, or a stage's tasks failed there after their retries."""

    exit_code = 3


class SchemaError(DatacraftError):
    """An unknown or unreadable schema."""
