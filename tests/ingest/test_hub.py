"""Datasets: folders saved by `datasets`, and clear errors when a hub cannot be reached."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.errors import ConfigError, InputError
from datacraft.ingest import IngestConfig, ingest
from datacraft.ingest.sources import HUB, plan_sources

ROWS = [{"question": f"Q{i}?", "answer": f"A{i}.", "source_id": i} for i in range(6)]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A Dataset and a DatasetDict (train/test) written with save_to_disk."""
    from datasets import Dataset, DatasetDict

    root = tmp_path_factory.mktemp("datasets")
    Dataset.from_list(ROWS).save_to_disk(str(root / "plain"))
    DatasetDict({"train": Dataset.from_list(ROWS[:4]), "test": Dataset.from_list(ROWS[4:])}).save_to_disk(
        str(root / "nested" / "splits"))
    return root


def _records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_saved_dataset_is_read_row_by_row(saved, tmp_path):
    summary = ingest([str(saved / "plain")], str(tmp_path / "out.jsonl"), config=IngestConfig(limit=4))
    records = _records(tmp_path / "out.jsonl")
    assert summary["sources"] == {"dataset": 1} and summary["written"] == 4
    assert records[0] == {"instruction": "Q0?", "input": "", "output": "A0.", "id": "plain:1",
                          "meta": {"source": f"{saved / 'plain'}:1", "extra": {"source_id": 0}}}


def test_splits_of_a_dataset_dict_and_datasets_found_in_a_folder_walk(saved, tmp_path):
    out = tmp_path / "out.jsonl"
    summary = ingest([str(saved / "nested")], str(out), read_options={"split": "test"})
    assert summary["sources"] == {"dataset": 1}
    assert [r["instruction"] for r in _records(out)] == ["Q4?", "Q5?"]
    # A wrong split is fatal for a dataset named on the command line, counted for one found in a folder.
    with pytest.raises(InputError, match="no split 'dev'; splits: train, test"):
        ingest([str(saved / "nested" / "splits")], str(out), read_options={"split": "dev"})
    summary = ingest([str(saved / "nested")], str(out), read_options={"split": "dev"})
    assert summary["reasons"] == {"ingest/unreadable": 1} and summary["written"] == 0


def test_owner_name_that_is_not_a_local_path_is_a_hub_id(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n", encoding="utf-8")  # an empty folder is now an error of its own
    plan = plan_sources(["someone/some-dataset", "hf:org/set", str(tmp_path)])
    assert [(s.kind, s.path) for s in plan.sources[:2]] == [(HUB, "someone/some-dataset"), (HUB, "org/set")]


def test_offline_hub_says_it_cannot_be_reached_and_how_to_read_a_local_copy(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run(
        [sys.executable, "-c", "from datacraft.cli import cli; cli()", "ingest", "someone/no-such-dataset",
         "-o", str(tmp_path / "out.jsonl")],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: cannot reach the Hugging Face Hub for 'someone/no-such-dataset' (offline mode is on "
        "(HF_HUB_OFFLINE)). To read a local copy instead, pass its folder: one written by `datasets` "
        "(Dataset.save_to_disk) or a folder of JSON/JSONL/CSV/Parquet files.")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.skipif(importlib.util.find_spec("modelscope") is not None, reason="modelscope is installed")
def test_modelscope_ids_need_the_optional_package(tmp_path):
    result = CliRunner().invoke(cli, ["ingest", "ms:owner/name", "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: install modelscope to read ModelScope ids: pip install modelscope"
    with pytest.raises(ConfigError, match="install modelscope"):
        ingest(["modelscope:owner/name"], str(tmp_path / "out.jsonl"))
