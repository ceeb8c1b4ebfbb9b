"""One real local Ray cluster for the whole test session (2 CPUs, no dashboard), shared by every test here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def cluster() -> Iterator[object]:
    """A local Ray cluster started by this test process (`ray.init(num_cpus=2)`); shut down at the end."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'datacraft[ray]'")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()
