"""A tiny Llama-style model and a tokenizer trained on the fly, saved as a normal model directory.

Used by the tests, `make train` and demos: nothing is downloaded, and training loads it through the
same `from_pretrained(path)` code path as a real model.

Run: python -m datacraft.train.tiny OUT_DIR --data train.jsonl [--vocab 600 --hidden 64 --layers 2]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from datacraft.records import Record, record_text

SPECIAL_TOKENS = ("<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>")
# ChatML-like; `{{ '\n' }}` because transformers renders templates with trim_blocks.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ '\n' }}{{ m['content'] }}"
    "{% if m['role'] == 'assistant' %}<|end|>{% endif %}{{ '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{{ '\n' }}{% endif %}"
)


def record_texts(records: Iterable[Record]) -> Iterator[str]:
    """Every piece of text in the records: what the tokenizer must learn to split."""
    for record in records:
        yield record_text(record)
        if record.get("system"):
            yield str(record["system"])
        for turn in record.get("history") or []:
            yield from (str(t) for t in turn)


def build_tokenizer(texts: Iterable[str], vocab_size: int = 400, chat_template: bool = True,
                    single_digits: bool = False):
    """A byte-level BPE tokenizer (no unknown tokens, any language) trained on `texts`.

    single_digits keeps every digit its own token (as Llama's and Qwen's tokenizers do), which
    digit-manipulation tasks need.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    if single_digits:
        core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                      pre_tokenizers.ByteLevel(add_prefix_space=False)])
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<|pad|>", eos_token="<|end|>")
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(tokenizer: Any, *, hidden: int = 64, layers: int = 2, heads: int = 4, kv_heads: int | None = None,
                intermediate: int | None = None, max_positions: int = 512, vocab_size: int | None = None,
                init_range: float = 0.2, seed: int = 0):
    """A randomly initialised LlamaForCausalLM sized by the arguments.

    init_range is 10x Llama's 0.02: LoRA cannot change embeddings or norms, and with tiny random
    embeddings the logits of a random base are too flat for an adapter to sharpen.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size or len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv_heads or max(1, heads // 2),
        intermediate_size=intermediate or 2 * hidden, max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True, initializer_range=init_range,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def build_tiny_model(out_dir: str | Path, records: Iterable[Record] | None = None, *, texts: Iterable[str] = (),
                     vocab_size: int = 400, chat_template: bool = True, single_digits: bool = False,
                     **model_args: Any) -> str:
    """Train a tokenizer on the records (and texts), build a tiny model, save both to `out_dir`."""
    corpus = [*record_texts(records or []), *texts]
    tokenizer = build_tokenizer(corpus, vocab_size=vocab_size, chat_template=chat_template, single_digits=single_digits)
    model = build_model(tokenizer, **model_args)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def main(argv: list[str] | None = None) -> None:
    from datacraft.train.data import load_records
    from datacraft.train.deps import quiet_libraries

    quiet_libraries()

    parser = argparse.ArgumentParser(description="Build a tiny Llama-style model directory for demos and tests.")
    parser.add_argument("out_dir")
    parser.add_argument("--data", action="append", default=[], help="JSONL records to train the tokenizer on")
    parser.add_argument("--vocab", type=int, default=600)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    args = parser.parse_args(argv)
    records = load_records(args.data) if args.data else []
    path = build_tiny_model(args.out_dir, records, vocab_size=args.vocab, hidden=args.hidden,
                            layers=args.layers, heads=args.heads)
    print(f"tiny model: {path}")


if __name__ == "__main__":
    main()


# Tiny configs of architectures whose heads and attention differ in ways the trainer must respect:
# Cohere scales its logits, Granite divides them, Falcon-H1 multiplies its head's output, Gemma scales embeddings, OPT/Bloom/MPT ignore
# position_ids in the attention mask (packing leaks there unless the trainer notices).
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "Llama": {"num_key_value_heads": 2},
    "Qwen2": {"num_key_value_heads": 2},
    "Qwen3": {"num_key_value_heads": 2, "head_dim": 8},
    "Gemma": {"num_key_value_heads": 2, "head_dim": 8},
    "Mistral": {"num_key_value_heads": 2},
    "Phi3": {"num_key_value_heads": 2},
    "Cohere": {"num_key_value_heads": 2, "logit_scale": 0.25},
    "Granite": {"num_key_value_heads": 2, "logits_scaling": 8.0},
    "Olmo2": {"num_key_value_heads": 2},
    "GPTNeoX": {},
    "OPT": {"ffn_dim": 64, "word_embed_proj_dim": 32},
    "Bloom": {"n_layer": 2, "n_head": 4},
    "Mpt": {"d_model": 32, "n_heads": 4, "n_layers": 2, "max_seq_len": 128},
    "FalconH1": {"num_key_value_heads": 2, "mamba_d_ssm": 32, "mamba_n_heads": 4, "mamba_d_head": 8,
                 "mamba_d_state": 8, "mamba_n_groups": 1, "mamba_chunk_size": 16, "lm_head_multiplier": 0.3},
}


def build_architecture(name: str, vocab_size: int = 97, seed: int = 0):
    """A randomly initialised `<name>ForCausalLM` with hidden size 32 and 2 layers; None when transformers lacks it."""
    import torch
    import transformers

    config_cls = getattr(transformers, f"{name}Config", None)
    model_cls = getattr(transformers, f"{name}ForCausalLM", None)
    if config_cls is None or model_cls is None:
        return None
    common = {"vocab_size": vocab_size, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
              "intermediate_size": 64, "max_position_embeddings": 128, "pad_token_id": 0,
              "bos_token_id": 1, "eos_token_id": 2}
    torch.manual_seed(seed)
    return model_cls(config_cls(**{**common, **ARCHITECTURES[name]}))
