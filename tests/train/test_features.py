"""Trainer features: checkpoints and resume, early stopping with best weights, NEFTune, DoRA,
merging an adapter into a loadable model, TensorBoard, and the adapter naming its base."""

import json
import os

import pytest

torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402

from datacraft.cli import cli  # noqa: E402
from datacraft.errors import ConfigError  # noqa: E402
from datacraft.train.config import LoraSettings, TrainConfig  # noqa: E402
from datacraft.train.data import encode_records  # noqa: E402
from datacraft.train.model import load_for_training  # noqa: E402
from datacraft.train.packing import pad_batch  # noqa: E402
from datacraft.train.trainer import Trainer, neftune_hook  # noqa: E402

LORA = LoraSettings(r=4, alpha=8, dropout=0.0)


def setup(model, records, **kw):
    cfg = TrainConfig(**{"model": model, "batch_size": 8, "learning_rate": 1e-2, "lora": LORA, "metric": None,
                         "max_length": 64, **kw})
    torch.manual_seed(cfg.seed)  # the adapter's initialisation, as train_once does
    loaded = load_for_training(cfg)
    examples, _ = encode_records(records, loaded.tokenizer, max_length=64)
    return cfg, loaded, examples


def trainable(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


class Interrupt(Exception):
    pass


def test_resume_from_a_checkpoint_ends_where_an_uninterrupted_run_ends(tiny_model, lookup, tmp_path):
    records = lookup[0][:40]
    cfg, loaded, examples = setup(tiny_model, records, max_steps=10, save_every=4)
    whole = Trainer(loaded, cfg).fit(examples, run_dir=tmp_path / "a")
    expected = trainable(loaded.model)

    cfg, loaded, examples = setup(tiny_model, records, max_steps=10, save_every=4)

    def stop(row):
        if row["step"] == 6:
            raise Interrupt  # killed after the step-4 checkpoint

    with pytest.raises(Interrupt):
        Trainer(loaded, cfg).fit(examples, run_dir=tmp_path / "b", on_step=stop)
    assert sorted(p.name for p in (tmp_path / "b" / "checkpoints").iterdir()) == ["step-4"]
    cfg, loaded, examples = setup(tiny_model, records, max_steps=10, save_every=4)
    resumed = Trainer(loaded, cfg).fit(examples, run_dir=tmp_path / "b", resume=True)
    assert resumed.resumed_from == 4 and resumed.steps == 10
    assert [r["step"] for r in resumed.history if "loss" in r] == list(range(1, 11))
    for name, value in trainable(loaded.model).items():
        assert torch.allclose(value, expected[name], atol=1e-6), name
    assert [round(r["loss"], 5) for r in resumed.history if "loss" in r] == \
        [round(r["loss"], 5) for r in whole.history if "loss" in r]
    # keep=2: only the two newest checkpoints stay
    assert sorted(p.name for p in (tmp_path / "a" / "checkpoints").iterdir()) == ["step-10", "step-8"]


def test_early_stopping_keeps_the_best_weights(tiny_model, lookup):
    pool, ev = lookup
    # Three keys memorised, evaluated on others: eval loss bottoms out early and climbs.
    train = [r for r in pool if r["input"] in ("k0", "k1", "k2")][:6]
    evals = [r for r in ev if r["input"] not in ("k0", "k1", "k2")]
    cfg, loaded, examples = setup(tiny_model, train, max_steps=200, eval_every=2, early_stopping_patience=3,
                                  load_best=True, lora=None, scheduler="constant")
    eval_examples, _ = encode_records(evals, loaded.tokenizer, max_length=64)
    result = Trainer(loaded, cfg).fit(examples, eval_examples)
    points = [(r["step"], r["eval_loss"]) for r in result.history if "eval_loss" in r]
    best_step, best = min(points, key=lambda p: p[1])
    assert result.stopped == "early_stopping" and result.converged is True and result.steps < 200
    assert result.steps == points[-1][0] and points[-1][0] - best_step == 3 * 2  # patience 3 evals of 2 steps
    assert result.best_step == best_step
    assert result.final["eval_loss"] == pytest.approx(best, rel=1e-5)  # the best weights were restored


def test_neftune_noises_embeddings_only_while_training(tiny_model, lookup):
    cfg, loaded, examples = setup(tiny_model, lookup[0][:8])
    batch = pad_batch(examples, loaded.tokenizer.pad_token_id)
    embed = loaded.model.get_base_model().get_input_embeddings()
    clean = embed(batch["input_ids"]).detach()
    handle = neftune_hook(loaded.model, 5.0)
    loaded.model.train()
    noisy = embed(batch["input_ids"]).detach()
    loaded.model.eval()
    quiet = embed(batch["input_ids"]).detach()
    handle.remove()
    bound = 5.0 / (batch["input_ids"].shape[1] * clean.shape[-1]) ** 0.5
    assert 0 < (noisy - clean).abs().max() <= bound + 1e-6  # uniform noise scaled by alpha / sqrt(L d)
    assert torch.equal(quiet, clean)
    cfg, loaded, examples = setup(tiny_model, lookup[0][:16], max_steps=3, neftune_alpha=5.0)
    assert Trainer(loaded, cfg).fit(examples).steps == 3
    assert not loaded.model.get_base_model().get_input_embeddings()._forward_hooks  # removed after training


def test_dora_train_save_merge_and_load(tiny_model, lookup_files, tmp_path, monkeypatch):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    train, evals = lookup_files
    # Train from another directory with a relative model path: the adapter must still find its base.
    monkeypatch.chdir(os.path.dirname(tiny_model))
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--data", train, "--eval", evals, "--model", os.path.basename(tiny_model),
                                      "-o", str(run), "--max-steps", "4", "--batch-size", "16", "--lr", "1e-2",
                                      "--lora-r", "4", "--dora", "--metric", "none", "--max-length", "64"])
    assert result.exit_code == 0, result.output
    adapter_config = json.loads((run / "adapter" / "adapter_config.json").read_text(encoding="utf-8"))
    assert adapter_config["use_dora"] is True
    assert adapter_config["base_model_name_or_path"] == os.path.realpath(tiny_model)  # absolute, as resolved
    monkeypatch.chdir(tmp_path)
    merged_dir = tmp_path / "merged"
    merged = CliRunner().invoke(cli, ["merge", str(run), "-o", str(merged_dir)])
    assert merged.exit_code == 0, merged.output
    assert "merged the DoRA adapter" in merged.output
    assert not (merged_dir / "adapter_config.json").exists() and (merged_dir / "config.json").exists()
    ids = torch.tensor([[5, 17, 42, 8, 99, 3]])
    with torch.no_grad():
        plain = AutoModelForCausalLM.from_pretrained(str(merged_dir)).eval()(input_ids=ids).logits
        base = AutoModelForCausalLM.from_pretrained(tiny_model)
        adapted = PeftModel.from_pretrained(base, str(run / "adapter")).eval()(input_ids=ids).logits
        untouched = AutoModelForCausalLM.from_pretrained(tiny_model).eval()(input_ids=ids).logits
    assert torch.allclose(plain, adapted, atol=1e-4)
    assert not torch.allclose(plain, untouched, atol=1e-4)
    again = CliRunner().invoke(cli, ["merge", str(run), "-o", str(merged_dir)])
    assert again.exit_code != 0 and "exists and is not empty" in again.output


def test_merge_refuses_what_is_not_an_adapter(tmp_path):
    result = CliRunner().invoke(cli, ["merge", str(tmp_path), "-o", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert f"{tmp_path}: no adapter_config.json here" in result.output


def test_tensorboard_logging_or_a_clear_error(tiny_model, lookup, tmp_path):
    cfg, loaded, examples = setup(tiny_model, lookup[0][:16], max_steps=2, tensorboard=True)
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="needs the tensorboard package: pip install tensorboard"):
            Trainer(loaded, cfg).fit(examples, run_dir=tmp_path)
        return
    Trainer(loaded, cfg).fit(examples, run_dir=tmp_path)
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tensorboard").iterdir())


def test_early_stopping_on_the_task_score(tiny_model, lookup):
    pool, ev = lookup
    cfg, loaded, examples = setup(tiny_model, pool[:64], max_steps=16, eval_every=4, early_stopping_patience=2,
                                  early_stopping_metric="score", metric="exact_match", max_new_tokens=4,
                                  load_best=True)
    eval_examples, _ = encode_records(ev, loaded.tokenizer, max_length=64)
    result = Trainer(loaded, cfg).fit(examples, eval_examples)
    rows = [r for r in result.history if "eval_loss" in r]
    assert rows and all("eval_score" in r for r in rows)  # judged by generating and scoring, not by loss
    best = max(rows, key=lambda r: r["eval_score"])
    assert result.best_step == best["step"]
    assert result.final["score"] == pytest.approx(best["eval_score"])  # the best-scoring weights were kept


def test_resume_without_a_checkpoint_is_a_clear_error(tiny_model, lookup_files, tmp_path):
    train, evals = lookup_files
    result = CliRunner().invoke(cli, ["train", "--data", train, "--eval", evals, "--model", tiny_model,
                                      "-o", str(tmp_path / "run"), "--resume", "--max-steps", "2"])
    assert result.exit_code == 2
    assert result.output == (f"Error: --resume: no checkpoint in {tmp_path / 'run' / 'checkpoints'}; "
                             "train with --save-every first\n")
