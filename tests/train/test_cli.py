import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from datacraft.cli import cli

pytest.importorskip("torch")


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_train_command_writes_the_run(tiny_model, lookup_files, tmp_path):
    train, evals = lookup_files
    out = tmp_path / "run"
    result = run("train", "--data", train, "--eval", evals, "--model", tiny_model, "-o", str(out),
                 "--max-steps", "40", "--batch-size", "16", "--lr", "1e-2", "--lora-r", "8", "--lora-alpha", "16",
                 "--metric", "exact_match", "--max-new-tokens", "4", "--max-length", "64", "--label", "meta.task_type")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["train_records"] == 256 and summary["eval_records"] == 16 and summary["steps"] == 40
    assert summary["config"]["lora"] == {"r": 8, "alpha": 16, "dropout": 0.05, "targets": "all-linear", "dora": False}
    assert not summary["packed"] and summary["device"] == "cpu"
    for name in ("adapter/adapter_model.safetensors", "adapter/tokenizer.json", "metrics.jsonl", "loss.png",
                 "predictions.jsonl"):
        assert (out / name).exists(), name
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum("loss" in r for r in rows) == 40 and rows[0] == {"step": 0, "eval_loss": rows[0]["eval_loss"]}
    predictions = (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(predictions) == 16 and set(json.loads(predictions[0])) == {"id", "reference", "prediction", "answer"}
    lines = result.output.splitlines()
    assert lines[0].startswith("trained on 256 records (16 for eval) with cpu/float32, padded batches: 40 steps")
    assert f"exact_match {summary['final']['score']:.4f} on 16 records" in result.output
    assert "  common: " in result.output and "  rare: " in result.output
    assert f"diagnosis: {summary['diagnosis']['label']}: " in result.output
    # 40 steps x 16 records over 256 records = 2.5 epochs, while 5 suit this little data
    assert "epochs: ok: 2.5 epochs over 256 samples looks reasonable (suggested 5)" in result.output
    again = run("diagnose", str(out))
    assert again.exit_code == 0 and again.output.startswith(f"diagnosis: {summary['diagnosis']['label']}: ")
    assert "epochs: ok: 2.5 epochs over 256 samples" in again.output


def test_train_holds_out_a_split_and_warns(tiny_model, lookup_files, tmp_path):
    train, _ = lookup_files
    result = run("train", "--data", train, "--model", tiny_model, "-o", str(tmp_path / "run"), "--max-steps", "4",
                 "--max-length", "16", "--metric", "none", "--full", "--epochs", "30")
    assert result.exit_code == 0, result.output
    assert "trained on 230 records (26 for eval)" in result.output
    assert "warning: 30 epochs over 230 samples risks overfitting" not in result.output  # --max-steps decides
    assert "records are longer than --max-length 16 tokens" in result.output
    assert (tmp_path / "run" / "model" / "model.safetensors").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "/no/such/model"], "Error: /no/such/model: model directory not found\n"),
    (["--full", "--lora-r", "8", "--model", "x"], "Error: --full trains every weight: drop the --lora-* options\n"),
    ([], "Error: no model given: pass --model with a local model directory or a hub id\n"),
])
def test_train_option_errors(args, message, lookup_files, tmp_path):
    result = run("train", "--data", lookup_files[0], "-o", str(tmp_path / "x"), *args)
    assert result.exit_code == 2
    assert result.output.endswith(message)


def test_hub_name_without_network_is_one_line(lookup_files, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    result = run("train", "--data", lookup_files[0], "-o", str(tmp_path / "x"), "--model", "someone/not-cached-model")
    assert result.exit_code == 2
    assert result.output == "Error: cannot download someone/not-cached-model: no network; pass a local model directory\n"


def test_unknown_config_key_is_named(lookup_files, tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("epochs: 2\nlearning_rat: 0.001\n", encoding="utf-8")
    result = run("train", "--data", lookup_files[0], "-o", str(tmp_path / "x"), "--config", str(config))
    assert result.exit_code == 2
    assert result.output == f"Error: {config}: unknown key 'learning_rat'\n"


def test_light_install_help_and_clear_error(lookup_files, tmp_path):
    """Without torch (blocked here), --help still works and train says what to install."""
    code = ("import sys\n"
            "for name in ('torch', 'transformers', 'peft', 'accelerate'): sys.modules[name] = None\n"
            "from datacraft.cli import cli\n"
            "cli(sys.argv[1:])\n")
    help_run = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0 and "train " in help_run.stdout and "saturation " in help_run.stdout, help_run.stderr
    train_run = subprocess.run([sys.executable, "-c", code, "train", "--data", lookup_files[0], "-o",
                                str(tmp_path / "x"), "--model", "m"], capture_output=True, text=True)
    assert train_run.returncode == 2, train_run.stderr
    assert train_run.stderr.startswith("Error: this command needs torch, transformers, peft, accelerate: "
                                       "install datacraft[train]")
