"""The Ray executor: the pipeline's stages on a Ray cluster, with the local run's outputs byte for byte.

- per-record stages (clean without its own dedupe, validate): Ray Data `map_batches` over chunks
  of the previous stage's file, each task running the registry's own stage functions;
- dedupe: exact keys per chunk, then a groupby shuffle on key buckets (the lowest position of a key survives);
  MinHash signatures per chunk, the survivor rule (`lsh.resolve`) over them on the driver, then the
  decisions applied per chunk (see `ray_dedupe.py`);
- read, export, stats and any other stage: on the driver, by the local code (their output is one
  file each, in one order).

The driver writes every output with the same atomic writers (temp file, renamed on success), in
chunk order. A task whose worker dies (SIGKILL, OOM, a lost node) is rerun by Ray Data (its default
for system failures); a chunk's result depends on its input bytes alone, so the rerun gives the
same bytes. An exception in a stage is not retried: the job fails, and leaves nothing under the
final names (the writers' temp files are removed). Ray is imported only here, when `--executor ray` asks for it.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from datacraft.errors import ClusterError, ConfigError, DatacraftError
from datacraft.executors.chunks import CHUNK, Chunk, cut, merge_counts, run_record_stage
from datacraft.io.writers import atomic_write
from datacraft.registry import REGISTRY, check_stage
from datacraft.runner import check_paths
from datacraft.stages import Ledger

CONNECT_TIMEOUT = 10  # seconds to reach a cluster's --address before giving up


class RayExecutor:
    """Runs a pipeline's stages on Ray: `ray.init(address)` or a local cluster of `workers` CPUs."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, chunk_records: int = CHUNK):
        self.address, self.workers, self.chunk_records = address, workers, chunk_records
        self.placements: dict[str, str] = {}
        self._started = False
        self._ray: Any = None

    def __enter__(self) -> RayExecutor:
        try:  # checked before any work; the cluster starts at the first stage that runs on it
            import ray  # noqa: F401
            import ray.data  # noqa: F401
        except ImportError:
            raise ConfigError("--executor ray needs Ray: pip install 'datacraft[ray]'") from None
        if self.address is not None:
            _check_reachable(self.address)
        return self

    def start(self) -> Any:
        """Connect to the cluster (or start a local one) once; the `ray` module."""
        if self._ray is not None:
            return self._ray
        import ray
        import ray.data
        from ray.data.context import ShuffleStrategy

        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "logging_level": logging.WARNING}
            if self.address is None:
                options["num_cpus"] = self.workers or os.cpu_count() or 1
            try:
                ray.init(address=self.address, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ClusterError(f"cannot connect to the Ray cluster at {self.address}: {_first_line(exc)}; "
                                   "check the address (ray status), or drop --address to start a local one") from None
            self._started = True
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # chunk results come back in input order
        # the sort-based shuffle runs as tasks; the default hash shuffle starts aggregator actors, which
        # on a small cluster cost more than the shuffle (measured: 2.2 s against 10-14 s, 20k records)
        context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
        context.enable_progress_bars = False  # stdout is datacraft's; Ray would print progress there
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        self._ray = ray
        return ray

    def __exit__(self, *exc: Any) -> None:
        if self._started:
            self._ray.shutdown()
        self._started, self._ray = False, None

    def describe(self) -> dict[str, Any]:
        """The manifest's record of the cluster and of where each stage ran (ray or driver)."""
        cpus = self._ray.cluster_resources().get("CPU") if self._ray and self._ray.is_initialized() else None
        return {"name": self.name, "address": self.address or "local", "workers": self.workers,
                "cluster_cpus": cpus, "ray": getattr(self._ray, "__version__", None),
                "chunk_records": self.chunk_records, "stages": dict(self.placements)}

    def run_stage(self, kind: str, settings: dict[str, Any], config: Any, base: Path, out_dir: Path,
                  label: str, current: Path | None, config_path: str) -> tuple[dict[str, Any], dict[str, str]]:
        """Run one stage on the cluster when it has a distributed form, else on the driver."""
        model = check_stage(kind, settings, config_path) if kind in REGISTRY else None
        records, rejects = f"{label}.jsonl", f"{label}.rejects.jsonl"
        if current is not None and model is not None:
            check_paths([str(current)], {"output": str(out_dir / records), "--rejects": str(out_dir / rejects)})
            try:
                if _per_record(kind, model):
                    counts = self._record_stage(kind, settings, model, base, current, out_dir / records,
                                                out_dir / rejects, config_path)
                    self.placements[label] = "ray"
                    return counts, {"records": records, "rejects": rejects}
                if kind == "dedupe" and _distributed_dedupe(model):
                    from datacraft.executors.ray_dedupe import run_dedupe

                    counts = run_dedupe(self, model, base, current, out_dir / records, out_dir / rejects)
                    self.placements[label] = "ray"
                    return counts, {"records": records, "rejects": rejects}
            except (DatacraftError, OSError):  # a stage's own error, or the driver's disk: reported as locally
                raise
            except Exception as exc:  # noqa: BLE001 - a Ray failure: say which stage, leave no output
                raise _cluster_error(label, exc) from None
        from datacraft.pipeline import run_stage

        self.placements[label] = "driver"
        return run_stage(kind, settings, config, base, out_dir, label, current, config_path)

    def partitions(self) -> int:
        """Shuffle partitions: a few per CPU (Ray's default of 200 is for far bigger clusters)."""
        cpus = self.start().cluster_resources().get("CPU", 1)
        return int(max(2, min(200, 4 * cpus)))

    def chunks(self, path: Path) -> list[Chunk]:
        """The stage input cut into tasks."""
        return cut(path, self.chunk_records)

    def map_chunks(self, items: list[dict[str, Any]], fn: Any, **kwargs: Any) -> Any:
        """A Ray Dataset with one row per chunk, mapped by `fn(item, **kwargs) -> dict` in a task each."""
        options: dict[str, Any] = {}
        if self.workers is not None and self.address is not None:
            options["concurrency"] = self.workers
        dataset = self.start().data.from_items(items, override_num_blocks=max(len(items), 1))
        return dataset.map_batches(_one_row, batch_size=1, fn_args=(fn,), fn_kwargs=kwargs, **options)

    def _record_stage(self, kind: str, settings: dict[str, Any], model: Any, base: Path, source: Path,
                      records: Path, rejects: Path, config_path: str) -> dict[str, Any]:
        REGISTRY[kind].build(model, Ledger(), base)  # a bad setting fails here, as locally, before tasks start
        chunks = self.chunks(source)
        ledger = Ledger()
        read = ledger.stage("read")
        read.read = read.kept = sum(c.count for c in chunks)
        kept = 0
        rows = self.map_chunks([c.as_item() for c in chunks], run_record_stage, kind=kind, settings=settings,
                               base=str(base), source=config_path)
        with atomic_write(records, "wb") as out, atomic_write(rejects, "wb") as rej:
            for row in rows.iter_rows():
                out.write(row["records"])
                rej.write(row["rejects"])
                merge_counts(ledger, orjson.loads(row["counts"]))
                kept += int(row["kept"])
        counts = ledger.to_dict(kept)
        counts["stages"].pop("read", None)  # the previous stage's file: its rows were counted there
        return counts


def _one_row(batch: dict[str, np.ndarray], fn: Any, **kwargs: Any) -> Any:
    """map_batches adapter: a one-row batch in, `fn`'s dict out as a one-row batch."""
    item = {key: _plain(values[0]) for key, values in batch.items()}
    result = fn(item, **kwargs)
    if not isinstance(result, dict):  # already a batch (an Arrow table of many rows)
        return result
    return {key: _column(value) for key, value in result.items()}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _column(value: Any) -> np.ndarray:
    column = np.empty(1, dtype=object)
    column[0] = value
    return column


def _per_record(kind: str, model: Any) -> bool:
    """Stages whose verdict on a record depends on that record alone (so any chunking gives the same)."""
    if kind == "validate":
        return True
    if kind == "clean":  # its own dedupe (off in a pipeline unless asked for) sees the whole input
        return model.dedupe is None or not model.dedupe.enabled
    return False


def _distributed_dedupe(model: Any) -> bool:
    return model.enabled and (model.exact or model.threshold is not None)


def _cluster_error(label: str, exc: BaseException) -> DatacraftError:
    seen: BaseException | None = exc
    while seen is not None:  # a stage's own error, raised in a task, reads as it does locally
        if isinstance(seen, DatacraftError):
            return seen
        seen = getattr(seen, "cause", None) or seen.__cause__
    return ClusterError(f"stage {label} failed on the Ray cluster: {type(exc).__name__}: {_first_line(exc)}; "
                        "nothing was written under its output names; rerun to resume from this stage")


def _check_reachable(address: str) -> None:
    """A `host:port` (or `ray://host:port`) that accepts no connection fails now: ray.init would retry for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # `auto`, or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ClusterError(f"cannot connect to the Ray cluster at {address}: {exc.strerror or exc}; check the "
                           "address (`ray status` on the head node), or drop --address to start a local one") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
