"""Fixtures for ingest tests: the test web site, started on 127.0.0.1 and stopped after each test."""

from __future__ import annotations

import os
import threading
from http.server import ThreadingHTTPServer

import pytest

from tests.ingest.helpers import Site, SiteHandler

# Nothing in these tests may reach a real hub: with these set, `datasets` fails at once instead of retrying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture
def serve_site():
    """Start the test site: `serve_site(robots=None, robots_status=200)`; stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(robots: str | None = None, robots_status: int = 200) -> Site:
        server = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
        server.daemon_threads = True
        server.log, server.robots, server.robots_status = [], robots, robots_status  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return Site(server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site(serve_site) -> Site:
    return serve_site()
