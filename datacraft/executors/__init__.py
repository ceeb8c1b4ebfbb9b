"""Executors of `datacraft run`: `local` (one process, the default) and `ray` (a Ray cluster, optional)."""

from datacraft.executors.local import LocalExecutor, make_executor

__all__ = ["LocalExecutor", "make_executor"]
