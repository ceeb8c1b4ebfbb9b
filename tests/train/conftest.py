"""Shared fixtures: a tiny Llama-style model directory and the toy lookup task, built once per session."""

from __future__ import annotations

import orjson
import pytest

from datacraft.train.toy import lookup_task, product_pages

MIXED_TEXT = ["Explain LoRA in one sentence.", "解释什么是LoRA微调。", "Translate: 今天的会议改到下午三点。"]


def write_jsonl(path, records) -> str:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return str(path)


@pytest.fixture(scope="session")
def lookup():
    """(training pool, eval set) of a 16-key lookup table; a quarter of the keys are rare."""
    return lookup_task(256, n_keys=16, rare_keys=4, seed=0)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, lookup):
    """A saved tiny model directory (hidden 48, 2 layers, ~320-token BPE vocabulary, chat template)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # tiny matmuls: threads on a shared 2-core machine cost more than they give
    from datacraft.train.deps import quiet_libraries
    from datacraft.train.tiny import build_tiny_model

    quiet_libraries()
    pool, ev = lookup
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", [*pool, *ev, *product_pages(4)],
                            texts=MIXED_TEXT, vocab_size=320, hidden=48, layers=2, heads=4)


@pytest.fixture(scope="session")
def lookup_files(tmp_path_factory, lookup):
    """The lookup task as train.jsonl / eval.jsonl."""
    root = tmp_path_factory.mktemp("lookup")
    pool, ev = lookup
    return write_jsonl(root / "train.jsonl", pool), write_jsonl(root / "eval.jsonl", ev)
