"""The hand-written checkers give exactly jsonschema's verdicts on the bundled schemas."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from datacraft.validate import Checker, load_schema
from datacraft.validate import alpaca as alpaca_checker
from datacraft.validate.checker import FAST_CHECKERS
from datacraft.validate.schemas import BUNDLED, fingerprint

OK_ALPACA = {"instruction": "Hi", "input": "", "output": "Hello"}
OK_SHAREGPT = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
OK_OPENAI = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    rec = copy.deepcopy(base)
    rec.update(changes)
    return rec


def turn(base: dict[str, Any], key: str, index: int, **changes: Any) -> dict[str, Any]:
    rec = copy.deepcopy(base)
    rec[key][index].update(changes)
    return rec


class StrSub(str):
    """Not produced by JSON parsing, but jsonschema accepts it as a string: so must we."""


TRICKY = {
    "alpaca": [
        OK_ALPACA, with_(OK_ALPACA, output=True), with_(OK_ALPACA, output=1), with_(OK_ALPACA, output=1.5),
        with_(OK_ALPACA, output=None), with_(OK_ALPACA, output=["x"]), with_(OK_ALPACA, output={"t": "x"}),
        with_(OK_ALPACA, output=""), with_(OK_ALPACA, output=" \n\t\u3000"), with_(OK_ALPACA, output="\u00a0x"),
        with_(OK_ALPACA, instruction="\u2003"), with_(OK_ALPACA, input=None), with_(OK_ALPACA, input=0),
        with_(OK_ALPACA, input=False), with_(OK_ALPACA, input="  "), with_(OK_ALPACA, system=None),
        with_(OK_ALPACA, system={}), with_(OK_ALPACA, history=None), with_(OK_ALPACA, history=[]),
        with_(OK_ALPACA, history={}), with_(OK_ALPACA, history=[["a", "b"], ["c", "d"]]),
        with_(OK_ALPACA, history=[["a", None]]), with_(OK_ALPACA, history=[["a"]]),
        with_(OK_ALPACA, history=[["a", "b", "c"]]), with_(OK_ALPACA, history=[("a", "b")]),
        with_(OK_ALPACA, history=["ab"]), with_(OK_ALPACA, history=[[1, 2]]), with_(OK_ALPACA, history=[["", ""]]),
        with_(OK_ALPACA, id=""), with_(OK_ALPACA, id=" "), with_(OK_ALPACA, id=3), with_(OK_ALPACA, id=None),
        with_(OK_ALPACA, meta=None), with_(OK_ALPACA, meta=[]), with_(OK_ALPACA, meta={"any": [1, None]}),
        with_(OK_ALPACA, extra=None, tools=[1]), with_(OK_ALPACA, tools="[]"), with_(OK_ALPACA, tools=None), with_(OK_ALPACA, output=StrSub("x")),
        {"instruction": "only"}, {"output": "only"}, {},
    ],
    "sharegpt": [
        OK_SHAREGPT, {"conversations": []}, {"conversations": {}}, {"conversations": None}, {},
        {"conversations": ["hi"]}, {"conversations": [None]}, {"conversations": [[]]},
        turn(OK_SHAREGPT, "conversations", 0, **{"from": "user"}), turn(OK_SHAREGPT, "conversations", 0, **{"from": 1}),
        turn(OK_SHAREGPT, "conversations", 0, **{"from": ["human"]}), turn(OK_SHAREGPT, "conversations", 0, **{"from": None}),
        turn(OK_SHAREGPT, "conversations", 1, value=""), turn(OK_SHAREGPT, "conversations", 1, value="\n"),
        turn(OK_SHAREGPT, "conversations", 1, value=1), turn(OK_SHAREGPT, "conversations", 1, value=None),
        turn(OK_SHAREGPT, "conversations", 1, extra=True), turn(OK_SHAREGPT, "conversations", 1, **{"from": StrSub("gpt")}),
        {"conversations": [{"value": "x"}]}, {"conversations": [{"from": "gpt"}]},
        {"conversations": [{"role": "user", "content": "x"}]},
        with_(OK_SHAREGPT, system=None), with_(OK_SHAREGPT, system=["x"]), with_(OK_SHAREGPT, tools="[]"),
        with_(OK_SHAREGPT, tools=[{"name": "f"}]), with_(OK_SHAREGPT, tools=None), with_(OK_SHAREGPT, id=True),
        # valid for the schema, invalid for LLaMA-Factory's rules:
        {"conversations": [{"from": "gpt", "value": "x"}]}, {"conversations": [{"from": "system", "value": "s"}]},
        with_(OK_SHAREGPT, chosen={}, rejected={}),
    ],
    "openai": [
        OK_OPENAI, {"messages": []}, {"messages": "hi"}, {"messages": [1]}, {},
        turn(OK_OPENAI, "messages", 0, role="human"), turn(OK_OPENAI, "messages", 0, role=True),
        turn(OK_OPENAI, "messages", 1, content=""), turn(OK_OPENAI, "messages", 1, content=" "),
        turn(OK_OPENAI, "messages", 1, content=None), turn(OK_OPENAI, "messages", 1, content=["part"]),
        turn(OK_OPENAI, "messages", 1, tool_calls=[]), {"messages": [{"from": "human", "value": "x"}]},
        with_(OK_OPENAI, tools=[]), with_(OK_OPENAI, tools="[]"), with_(OK_OPENAI, tools=None),
        with_(OK_OPENAI, meta="m"), {"messages": [{"role": "tool", "content": "x"}]},
    ],
}


@pytest.mark.parametrize("schema", BUNDLED)
def test_tricky_records_get_jsonschema_verdicts(schema: str) -> None:
    validator = Draft202012Validator(load_schema(schema)[1])
    checker = Checker(schema)
    assert checker.fast
    for rec in TRICKY[schema]:
        expected = validator.is_valid(rec)
        assert (not checker.schema_errors(rec)) == expected, rec
        if not expected:
            assert checker(rec), rec  # full validation never accepts what the schema rejects


def _mutations(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """`value` with one random change somewhere inside: a type swap, a deletion, a blank string."""
    if isinstance(value, dict) and value and depth < 4:
        key = rng.choice(sorted(value))
        out = dict(value)
        roll = rng.random()
        if roll < 0.15:
            del out[key]
        elif roll < 0.25:
            out["unexpected"] = rng.choice([1, "x", None])
        else:
            out[key] = _mutations(rng, value[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 4:
        out = list(value)
        i = rng.randrange(len(out))
        roll = rng.random()
        if roll < 0.2:
            del out[i]
        elif roll < 0.35:
            out.append(out[i])
        elif roll < 0.45:
            out.reverse()
        else:
            out[i] = _mutations(rng, out[i], depth + 1)
        return out
    return rng.choice([None, True, 0, 2.5, "", " ", "\u3000", "x", [], {}, ["a", "b"], "human", "gpt",
                       "user", "assistant", "system", "tool", "observation", "function_call"])


@pytest.mark.parametrize("schema", BUNDLED)
def test_random_mutations_get_jsonschema_verdicts(schema: str) -> None:
    rng = random.Random(schema)
    base = {"alpaca": with_(OK_ALPACA, system="s", history=[["q", "a"]], tools="[]", id="i", meta={}),
            "sharegpt": with_(OK_SHAREGPT, system="s", tools="[]", id="i"),
            "openai": with_(OK_OPENAI, tools=[], id="i", meta={})}[schema]
    validator = Draft202012Validator(load_schema(schema)[1])
    module = FAST_CHECKERS[schema]
    seen = {True: 0, False: 0}
    for _ in range(1500):
        rec = base
        for _ in range(rng.randint(1, 3)):
            rec = _mutations(rng, rec)
        expected = validator.is_valid(rec)
        seen[expected] += 1
        assert (not module.schema_errors(rec)) == expected, rec
        assert (not module.explain(rec)) == expected, rec
        # The one-pass check agrees with the slow explanation plus the rules.
        assert (not module.check(rec)) == (not (module.explain(rec) + module.rule_errors(rec))), rec
    assert min(seen.values()) > 100  # the fuzzing reached both verdicts


@pytest.mark.parametrize("schema", BUNDLED)
def test_checkers_describe_the_bundled_schema_files(schema: str) -> None:
    # Fails when a schema file changes without its checker: update the checker, then SCHEMA_SHA256.
    assert FAST_CHECKERS[schema].SCHEMA_SHA256 == fingerprint(load_schema(schema)[1])


def test_changed_schema_falls_back_to_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alpaca_checker, "SCHEMA_SHA256", "0" * 64)
    checker = Checker("alpaca")
    assert not checker.fast
    assert checker(OK_ALPACA) == []
    assert [i.kind for i in checker(with_(OK_ALPACA, output=1))] == ["bad_type"]


def test_fingerprint_ignores_annotations_but_not_constraints() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string", "description": "a field named title"}}}
    assert fingerprint(schema) == fingerprint({"type": "object", "properties": {"title": {"type": "string"}}})
    assert fingerprint(schema) != fingerprint({"type": "object", "properties": {}})
    assert fingerprint({"enum": [{"title": 1}]}) != fingerprint({"enum": [{}]})
