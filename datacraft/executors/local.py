"""The local executor: every stage in this process, as `datacraft run` always did."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class LocalExecutor:
    """Runs each stage with the pipeline's own stage loop (`datacraft.pipeline.run_stage`)."""

    name = "local"
    fuses = True  # consecutive record stages can run as one stream (`run_stream`)

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        """What the manifest records about where the run ran."""
        return {"name": self.name}

    def run_stage(self, kind: str, settings: dict[str, Any], config: Any, base: Path, out_dir: Path,
                  label: str, current: Path | None, config_path: str) -> tuple[dict[str, Any], dict[str, str]]:
        """Run one stage; (counts, outputs) as the manifest records them."""
        from datacraft.pipeline import run_stage

        return run_stage(kind, settings, config, base, out_dir, label, current, config_path)

    def run_stream(self, members: list[tuple[str, dict[str, Any], str]], config: Any, base: Path, out_dir: Path,
                   current: Path | None, config_path: str, done: Any) -> None:
        """Run consecutive record stages (kind, settings, label) as one stream; `done` as each one's files are in place."""
        from datacraft.pipeline import run_fused_stages

        run_fused_stages(members, config, base, out_dir, current, config_path, done)


def make_executor(name: str = "local", *, address: str | None = None, workers: int | None = None) -> Any:
    """The executor called `name`; Ray is imported only for `ray`.

    >>> make_executor().describe()
    {'name': 'local'}
    """
    from datacraft.errors import ConfigError

    if name == "local":
        if address is not None or workers is not None:
            raise ConfigError("--address and --workers are for --executor ray")
        return LocalExecutor()
    if name == "ray":
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers {workers}: give at least 1")
        from datacraft.executors.ray import RayExecutor

        return RayExecutor(address=address, workers=workers)
    raise ConfigError(f"unknown executor {name!r}; choose local or ray")
