"""Augment's view of a record of any form: its user and assistant text turns by slot name, and the way back.

Every method reads a `TextView` (a dict of slot -> text) and returns new texts for some slots;
`view.apply(texts)` writes them into a copy of the record in its own form (Alpaca, ShareGPT,
OpenAI, preference). Slot names: the last exchange keeps its Alpaca names (`instruction`,
`input`, `output`, or a preference record's `chosen` and `rejected`); earlier turns are
`history.1`, `history.2`, ... in conversation order (text turns only: tool turns are not
counted); the system prompt is `system`. Tool calls,
observations and `tools` are never slots, so their JSON leaves augment byte for byte.

Each slot has a kind, which the methods' `fields` choose by: user turns are `instruction` (an
Alpaca `input` is `input`), assistant turns `output`. The slots of one exchange (a prompt and
the answers after it) are checked together by the guard, as an Alpaca record's fields always
were, and `protect_factual` decides per exchange: the answer to a factual or code prompt stays.
"""

from __future__ import annotations

from typing import Any

from datacraft.augment.tasks import OPEN, task_kind
from datacraft.records import ASSISTANT, SYSTEM, USER, Record, map_texts, texts

ROLES = (USER, ASSISTANT, SYSTEM)
_LAST = ("instruction", "input", "output", "chosen", "rejected")  # the Alpaca view's names of the last exchange
_KIND = {"instruction": "instruction", "input": "input", "output": "output", "chosen": "output", "rejected": "output"}


class TextView(dict):
    """The rewritable texts of `record` (slot -> text) for the roles given; `apply` writes new texts back."""

    def __init__(self, record: Record, roles: tuple[str, ...] | list[str] = (USER, ASSISTANT)):
        super().__init__()
        self.record = record
        self.kinds: dict[str, str] = {}
        self.factual: set[str] = set()  # slots protect_factual leaves alone (answers and inputs of non-open tasks)
        self.exchanges: list[list[str]] = []  # slots the guard checks together
        self._names: list[str | None] = []  # per text of records.texts(), in order: its slot or None
        history = 0
        used: set[str] = set()
        exchange: list[tuple[str, str, str]] = []  # (slot, role, text) of the exchange being read
        previous = ""
        for role, field, text in texts(record):
            if role not in ROLES or not (field in _LAST or field == "history" or role == SYSTEM):
                self._names.append(None)  # tools, tool calls and observations: never rewritten
                continue
            if field == "history":
                history += 1
                name = f"history.{history}"
            else:
                name = field if field not in used else f"{field}.{len(self._names) + 1}"
            used.add(name)
            kind = SYSTEM if role == SYSTEM else _KIND.get(field) or ("instruction" if role == USER else "output")
            self._names.append(name if role in roles else None)
            if role in roles:
                self[name], self.kinds[name] = text, kind
            if role == SYSTEM:
                if role in roles:
                    self.exchanges.append([name])
                continue
            if role == USER and previous != USER:
                self._close(exchange)
                exchange = []
            exchange.append((name, role, text))
            previous = role
        self._close(exchange)

    def _close(self, exchange: list[tuple[str, str, str]]) -> None:
        """Note one exchange: its group for the guard and, when its task is not open, its protected slots."""
        if not exchange:
            return
        prompts = [t for _, r, t in exchange if r == USER]
        # The prompt and its answers as an Alpaca record: for an Alpaca record's last exchange, that record itself.
        task = {"instruction": prompts[0] if prompts else "", "input": "\n".join(prompts[1:]),
                "output": "\n".join(t for _, r, t in exchange if r == ASSISTANT)}
        if task_kind(task) != OPEN:
            self.factual.update(n for n, r, _ in exchange if r == ASSISTANT or self.kinds.get(n) == "input")
        group = [n for n, _, _ in exchange if n in self]
        if group:
            self.exchanges.append(group)

    def rewritable(self, fields: list[str] | tuple[str, ...], protect_factual: bool = True) -> list[str]:
        """The non-empty slots whose kind is in `fields` (the system prompt when it is a slot), in `fields` order."""
        kinds = [*fields, SYSTEM]
        order = sorted(self, key=lambda name: kinds.index(self.kinds[name]) if self.kinds[name] in kinds else len(kinds))
        return [name for name in order if self.kinds[name] in kinds and self[name].strip()
                and not (protect_factual and name in self.factual)]

    def groups(self, fields: list[str]) -> list[list[str]]:
        """The exchanges that `fields` (rewritten slots) touch, each as the rewritten slots in `fields` order."""
        out = [[name for name in fields if name in group] for group in self.exchanges]
        return [group for group in out if group]

    def apply(self, changed: dict[str, str]) -> Record:
        """A copy of the record, in its own form, with the slots in `changed` rewritten; everything else as it was."""
        names = iter(self._names)

        def put(role: str, field: str, text: str) -> str:
            name = next(names)
            return changed.get(name, text) if name is not None else text

        return map_texts(self.record, put)

    def texts_after(self, changed: dict[str, str]) -> dict[str, Any]:
        """The view's texts with `changed` applied (what the guard compares with the source's)."""
        return {**self, **changed}
