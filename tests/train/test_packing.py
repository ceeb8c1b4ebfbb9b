import pytest

torch = pytest.importorskip("torch")

from transformers import AutoModelForCausalLM  # noqa: E402

from datacraft.train.data import IGNORE, encode_records  # noqa: E402
from datacraft.train.loss import own_loss as answer_loss  # noqa: E402
from datacraft.train.model import load_tokenizer  # noqa: E402
from datacraft.train.packing import cu_seqlens, epoch_batches, pack_batch, pad_batch  # noqa: E402
from datacraft.train.toy import product_pages  # noqa: E402


@pytest.fixture(scope="module")
def examples(tiny_model, lookup):
    tok = load_tokenizer(tiny_model)
    # Mixed lengths: short lookups and long product pages, so the padded batch really pads.
    records = [lookup[0][0], *product_pages(2, seed=3)[:3], lookup[0][1]]
    return encode_records(records, tok, max_length=128)[0], tok


def test_packed_layout(examples):
    examples, _ = examples
    lengths = [len(e.input_ids) for e in examples]
    batch = pack_batch(examples, flash_kwargs=True)
    assert batch["input_ids"].shape == (1, sum(lengths))
    assert batch["input_ids"][0].tolist() == [t for e in examples for t in e.input_ids]
    positions = batch["position_ids"][0].tolist()
    assert positions == [p for n in lengths for p in range(n)]
    bounds = [0]
    for n in lengths:
        bounds.append(bounds[-1] + n)
    assert cu_seqlens(positions) == bounds
    assert batch["cu_seq_lens_q"].tolist() == bounds and batch["cu_seq_lens_q"].dtype == torch.int32
    assert batch["max_length_q"] == max(lengths)
    labels = batch["labels"][0].tolist()
    assert [labels[b] for b in bounds[:-1]] == [IGNORE] * len(examples)  # no prediction across records
    for example, start in zip(examples, bounds, strict=False):
        assert labels[start + 1:start + len(example.labels)] == example.labels[1:]


def test_padded_layout(examples):
    examples, tok = examples
    batch = pad_batch(examples, tok.pad_token_id)
    width = max(len(e.input_ids) for e in examples)
    assert batch["input_ids"].shape == (len(examples), width)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        assert batch["attention_mask"][row].tolist() == [1] * n + [0] * (width - n)
        assert batch["labels"][row, n:].eq(IGNORE).all()


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_loss_equals_padded_loss(tiny_model, examples, attn):
    examples, tok = examples
    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation=attn).eval()
    with torch.no_grad():
        padded, n_padded = answer_loss(model, pad_batch(examples, tok.pad_token_id))
        packed, n_packed = answer_loss(model, pack_batch(examples))
        leaky = pack_batch(examples)
        leaky.pop("position_ids")  # one long sequence: records would attend to each other
        crossed, _ = answer_loss(model, leaky)
    assert n_packed == n_padded > 0
    assert packed.item() == pytest.approx(padded.item(), rel=1e-5)
    assert abs(crossed.item() - padded.item()) > 1e-3 * padded.item()  # the reset positions are what keep them apart


def test_epoch_batches_cover_every_index_once():
    batches = list(epoch_batches(10, 4, seed=0, epoch=0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(i for b in batches for i in b) == list(range(10))
    assert batches == list(epoch_batches(10, 4, seed=0, epoch=0))
    assert batches != list(epoch_batches(10, 4, seed=0, epoch=1))
