"""The generation journal: an append-only JSONL log that makes `generate` resumable.

Requests are committed in request order, one line each, with the items accepted and rejected.
A line is flushed as soon as it is written, so a killed process loses nothing it had committed
(the OS keeps the data); it is fsynced at least every `sync_every` seconds and on close, for power
loss. On replay a torn last line (the process died mid-write) is cut off. Replies that arrived but
were not committed yet are in the response cache, so a rerun gets them without paying again.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from datacraft.errors import InputError
from datacraft.io.writers import dumps_line
from datacraft.records import Record

FORMAT = 1


@dataclass
class RoundState:
    """A round as the journal knows it: its identity, where it began, how it went."""

    round: int
    identity: str
    feedback: str | None
    pool: int  # accepted items before the round began (the "earlier" examples come from these)
    first_request: int
    info: dict[str, Any] = field(default_factory=dict)
    requests: int = 0
    accepted: int = 0
    rejected: int = 0


@dataclass
class JournalState:
    """Everything a rerun needs: accepted items in order, rejects, rounds, the next request number."""

    header: dict[str, Any] | None = None
    accepted: list[Record] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[RoundState] = field(default_factory=list)
    next_request: int = 0
    usage: dict[str, float] = field(default_factory=dict)
    removed: int = 0  # accepted items a reviewer rejected since (they do not count towards -n)

    def kept(self) -> int:
        """Accepted items that still count: those no review decision rejected."""
        return len(self.accepted) - self.removed

    def set_removed(self, decisions: dict[tuple[str, str], Any]) -> None:
        """Count the accepted items the latest review decisions reject (called when feedback is re-read)."""
        rejected = {key for key, entry in decisions.items() if entry.verdict == "rejected"}
        self.removed = sum((str(r.get("id")), str(r.get("instruction") or "").strip()) in rejected
                           for r in self.accepted) if rejected else 0


class Journal:
    """`state = journal.replay()`, then `journal.append(entry)` for each commit; `close()` at the end."""

    def __init__(self, path: str | Path, sync_every: float = 0.5):
        self.path = Path(path)
        self.sync_every = sync_every
        self._handle: IO[bytes] | None = None
        self._synced = time.monotonic()

    def replay(self) -> JournalState:
        """Read what earlier runs committed; cut a torn last line."""
        state = JournalState()
        if not self.path.exists():
            return state
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            with open(self.path, "r+b") as handle:  # the process died mid-line: that commit never happened
                handle.truncate(end)
            data = data[:end]
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise InputError(str(self.path), "corrupt generation journal line; rerun with --restart "
                                 "(the response cache keeps earlier replies free)", number) from None
            self._apply(state, entry)
        return state

    @staticmethod
    def _apply(state: JournalState, entry: dict[str, Any]) -> None:
        kind = entry.get("type")
        if kind == "header":
            state.header = entry
        elif kind == "round":
            state.rounds.append(RoundState(entry["round"], entry["identity"], entry.get("feedback"),
                                           entry["pool"], entry["first_request"], entry.get("info", {})))
        elif kind == "request":
            state.accepted.extend(entry.get("accepted", []))
            state.rejects.extend(entry.get("rejected", []))
            state.next_request = max(state.next_request, entry["k"] + 1)
            for key, value in entry.get("usage", {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    state.usage[key] = state.usage.get(key, 0) + value
            if state.rounds:
                current = state.rounds[-1]
                current.requests += 1
                current.accepted += len(entry.get("accepted", []))
                current.rejected += len(entry.get("rejected", []))

    def append(self, entry: dict[str, Any], state: JournalState | None = None) -> None:
        """Write one entry (and apply it to `state`); durable against a kill at once, against power loss soon."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "ab")  # noqa: SIM115 - closed in close()
        self._handle.write(dumps_line(entry))
        self._handle.flush()
        if time.monotonic() - self._synced >= self.sync_every:
            os.fsync(self._handle.fileno())
            self._synced = time.monotonic()
        if state is not None:
            self._apply(state, entry)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None

    def remove(self) -> None:
        """Forget earlier runs (--restart)."""
        self.close()
        self.path.unlink(missing_ok=True)


def header(mode: str, sources: dict[str, Any]) -> dict[str, Any]:
    """The first line: what kind of run this journal belongs to."""
    return {"type": "header", "format": FORMAT, "mode": mode, **sources}
