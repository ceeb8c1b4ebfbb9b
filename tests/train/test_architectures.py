"""The trainer's loss equals each architecture's own, packing is used only where it is exact, and
gradient accumulation weights tokens, not micro-batches. Tiny random models built in-process."""

import random

import pytest

torch = pytest.importorskip("torch")

from datacraft.train.data import IGNORE, Example  # noqa: E402
from datacraft.train.loss import choose_loss, head_loss, own_loss  # noqa: E402
from datacraft.train.packing import pack_batch, packing_isolated, pad_batch  # noqa: E402
from datacraft.train.tiny import ARCHITECTURES, build_architecture  # noqa: E402
from datacraft.train.trainer import accumulate  # noqa: E402

V = 97
LOSS_ARCHS = ["Llama", "Qwen2", "Qwen3", "Gemma", "Mistral", "Phi3", "Cohere", "Granite", "Olmo2", "GPTNeoX", "OPT",
              "FalconH1"]
SCALED = ("Cohere", "Granite", "FalconH1")  # they post-process their logits
PACKS = ["Llama", "Qwen2", "Qwen3", "Gemma", "Mistral", "Phi3", "Cohere", "Granite", "Olmo2", "GPTNeoX"]
LEAKS = ["OPT", "Bloom", "Mpt"]  # their attention builds its mask without the packed position_ids


def examples(lengths, seed=0):
    rng = random.Random(seed)
    out = []
    for n in lengths:
        ids = [rng.randrange(3, V) for _ in range(n)]
        prompt = max(1, n // 3)
        out.append(Example(ids, [IGNORE] * prompt + ids[prompt:], ids[:prompt], ""))
    return out


def model_for(name):
    model = build_architecture(name, V)
    if model is None:
        pytest.skip(f"transformers has no {name}ForCausalLM in this version")
    return model.eval()


@pytest.mark.parametrize("name", LOSS_ARCHS)
def test_trainer_loss_is_the_models_own(name):
    model = model_for(name)
    batch = pad_batch(examples([7, 12, 5, 9]), pad_id=0)
    fn, why = choose_loss(model, batch)
    with torch.no_grad():
        reference = model(**batch, use_cache=False).loss.item()  # transformers' own loss
        loss, count = fn(model, batch)
        shortcut, _ = head_loss(model, batch)
    assert count == sum(n - max(1, n // 3) for n in [7, 12, 5, 9])
    assert loss.item() / count == pytest.approx(reference, rel=1e-5)
    if name in SCALED:  # the head-only shortcut is wrong for them, and refused
        assert fn is own_loss and "post-processes" in why
        assert abs(shortcut.item() / count - reference) > 1e-3


@pytest.mark.parametrize("name", PACKS + LEAKS)
def test_packing_is_used_only_where_packed_equals_padded(name):
    model = model_for(name)
    batch_examples = examples([7, 12, 5, 9], seed=1)
    with torch.no_grad():
        padded, n = own_loss(model, pad_batch(batch_examples, 0))
        packed, m = own_loss(model, pack_batch(batch_examples))
    ok, why = packing_isolated(model, own_loss, batch_examples, pad_id=0)
    assert n == m
    if name in LEAKS:
        assert not ok and "padded" in why
        assert abs(packed.item() - padded.item()) / n > 1e-5
    else:
        assert ok, why
        assert packed.item() / n == pytest.approx(padded.item() / n, rel=1e-5)
    assert set(LEAKS + PACKS) <= set(ARCHITECTURES)


def grads(model, loss_fn, batches):
    model.zero_grad()
    accumulate(model, loss_fn, batches)
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


@pytest.mark.parametrize("packed", [False, True])
def test_accumulation_weights_tokens_not_micro_batches(packed):
    model = model_for("Llama")
    data = examples([4, 30, 6, 25, 5, 28, 7, 3], seed=2)  # micro-batches with very different token counts
    make = (lambda ex: pack_batch(ex)) if packed else (lambda ex: pad_batch(ex, 0))
    whole = grads(model, own_loss, [make(data)])  # batch 8
    split = grads(model, own_loss, [make(data[i:i + 4]) for i in (0, 4)])  # batch 4 x accum 2
    single = grads(model, own_loss, [make(data[i:i + 1]) for i in range(8)])  # batch 1 x accum 8
    assert torch.allclose(whole, split, rtol=1e-4, atol=1e-7)
    assert torch.allclose(whole, single, rtol=1e-4, atol=1e-7)
    # Averaging the micro-batch means (the old way) weights the short batch's tokens more.
    model.zero_grad()
    for i in (0, 4):
        loss, count = own_loss(model, make(data[i:i + 4]))
        (loss / count / 2).backward()
    naive = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    assert (naive - whole).norm() > 1e-3 * whole.norm()


@pytest.mark.parametrize(("name", "packs", "own"), [("Llama", True, False), ("OPT", False, False),
                                                    ("Granite", True, True)])
def test_the_trainer_checks_once_per_run_and_says_what_it_chose(name, packs, own, tmp_path, lookup):
    """A real run with --packing on: packed only where the check passed, the model's own loss where needed."""
    from datacraft.train.config import TrainConfig
    from datacraft.train.data import encode_records
    from datacraft.train.model import load_for_training
    from datacraft.train.tiny import build_tokenizer, record_texts
    from datacraft.train.trainer import Trainer

    records = lookup[0][:24]
    tok = build_tokenizer(list(record_texts(records)), vocab_size=300)
    model = build_architecture(name, len(tok))
    if model is None:
        pytest.skip(f"transformers has no {name}ForCausalLM in this version")
    model.config.pad_token_id, model.config.eos_token_id = tok.pad_token_id, tok.eos_token_id
    model.save_pretrained(tmp_path / name)
    tok.save_pretrained(tmp_path / name)
    cfg = TrainConfig(model=str(tmp_path / name), packing="on", lora=None, metric=None, max_steps=3, batch_size=8,
                      max_length=64, learning_rate=1e-3)
    loaded = load_for_training(cfg)
    examples, _ = encode_records(records, loaded.tokenizer, max_length=64)
    result = Trainer(loaded, cfg).fit(examples, examples[:8])
    assert result.steps == 3 and result.packed is packs, result.packing_reason
    assert ("agree" in result.packing_reason) is packs
    assert result.loss_kind.startswith("model's own loss") is own, result.loss_kind
