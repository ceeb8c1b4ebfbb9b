"""Run LLaMA-Factory's own dataset loader on exported files; print one JSON line per dataset.

Runs in the interpreter of an environment where `llamafactory` is installed (not datacraft's),
started by bench/check_llamafactory.py:

    LF_PYTHON bench/lf_probe.py DATASET_DIR NAME:STAGE [NAME:STAGE ...] [--template qwen]

For each dataset name of DATASET_DIR/dataset_info.json it calls `llamafactory.data.get_dataset`
(the loader a training run uses: format conversion, the template's encoding, LLaMA-Factory's
filtering of broken samples) with a byte-level BPE tokenizer trained here on the files' own text,
so no model download is needed, and prints `lf_probe: {"name", "stage", "kept", "total"}`: the samples
LLaMA-Factory kept out of the rows in the file.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import sys
import tempfile
import types

MARK = "lf_probe: "  # LLaMA-Factory prints to stdout too (sample previews): our lines carry this prefix


def _rows(path: str) -> list:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _tokenizer(texts: list[str]):
    """A small byte-level BPE tokenizer (every byte is a token, so any text encodes) with Qwen's chat tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(texts or ["hello"], trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": special[2:]})
    return tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset_dir")
    parser.add_argument("datasets", nargs="+", metavar="NAME:STAGE")
    parser.add_argument("--template", default="qwen")
    args = parser.parse_args()
    # LLaMA-Factory's multimodal plugin imports torchaudio at import time; text datasets never call it.
    stub = types.ModuleType("torchaudio")
    stub.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    sys.modules.setdefault("torchaudio", stub)
    os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="lf-probe-cache-"))
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import DataArguments, ModelArguments
    from transformers import Seq2SeqTrainingArguments

    with open(os.path.join(args.dataset_dir, "dataset_info.json"), encoding="utf-8") as handle:
        info = json.load(handle)
    wanted = [item.rsplit(":", 1) for item in args.datasets]
    rows = {name: _rows(os.path.join(args.dataset_dir, info[name]["file_name"])) for name, _ in wanted}
    tokenizer = _tokenizer([s for found in rows.values() for row in found[:200] for s in _strings(row)])
    for name, stage in wanted:
        data_args = DataArguments(dataset=name, dataset_dir=args.dataset_dir, template=args.template,
                                  cutoff_len=1_000_000, overwrite_cache=True, preprocessing_num_workers=None)
        training_args = Seq2SeqTrainingArguments(output_dir=tempfile.mkdtemp(prefix="lf-probe-"), do_train=True,
                                                 report_to=[])
        template = get_template_and_fix_tokenizer(tokenizer, data_args)
        module = get_dataset(template, ModelArguments(model_name_or_path="unused"), data_args, training_args,
                             stage, tokenizer)
        print(MARK + json.dumps({"name": name, "stage": stage, "kept": len(module["train_dataset"]),
                          "total": len(rows[name])}), flush=True)


if __name__ == "__main__":
    main()
