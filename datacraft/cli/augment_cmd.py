"""`datacraft augment`: more records from the ones you have, by back-translation, synonyms and mixing."""

from __future__ import annotations

import sys
from typing import Any

import click

from datacraft.augment import augment_config, augment_file, load_sections
from datacraft.augment.config import METHODS
from datacraft.clean import CleanConfig
from datacraft.cli.base import input_options, read_options
from datacraft.cli.llm_options import llm_config, llm_options
from datacraft.config import validate_section
from datacraft.errors import ConfigError
from datacraft.runner import check_paths

# Options that only mean something for one method: given without it, they are a mistake.
_METHOD_OPTIONS = {
    "synonym": ("ratio", "languages", "wordnet_dir"),
    "backtranslate": ("pivot", "translator", "model_dirs", "device", "batch_size"),
    "mix": ("mix_modes", "mix_ratio"),
}


@click.command("augment")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("-o", "--output", required=True, metavar="OUT", help="Originals plus augmented records, JSONL (`-` for stdout).")
@click.option("--method", "methods", multiple=True, type=click.Choice(METHODS),
              help="synonym, backtranslate or mix; repeatable, run in the order given (default: synonym).")
@click.option("--rejects", default=None, metavar="PATH", help="Write every rejected copy with the method, reason and detail.")
@click.option("--fields", default=None, metavar="F,F", help="Fields to rewrite (default instruction,input,output).")
@click.option("--rewrite-factual", is_flag=True, default=None,
              help="Also rewrite input and output of factual and code tasks (by default they are left alone).")
@click.option("--copies", type=int, default=None, help="Augmented copies per record and method (default 1).")
@click.option("--seed", type=int, default=None, help="Random seed: the same seed and input give the same output (default 0).")
@click.option("--replace", is_flag=True, default=None, help="Write only the augmented records, not the originals.")
@click.option("--ratio", type=float, default=None, help="synonym: share of the words to replace (default 0.15).")
@click.option("--lang", "languages", multiple=True, type=click.Choice(["zh", "en"]),
              help="synonym: languages to rewrite (default zh and en; en needs WordNet data).")
@click.option("--wordnet-dir", default=None, metavar="DIR", help="synonym: a WordNet dict folder, e.g. /usr/share/wordnet.")
@click.option("--pivot", default=None, help="backtranslate: pivot language (default auto: en for Chinese, zh otherwise).")
@click.option("--translator", type=click.Choice(["llm", "marian"]), default=None,
              help="backtranslate: an OpenAI-compatible LLM (default) or local MarianMT models.")
@click.option("--model-dir", "model_dirs", multiple=True, metavar="SRC-TGT=PATH",
              help="backtranslate --translator marian: a model folder per direction, e.g. zh-en=./opus-mt-zh-en.")
@click.option("--device", default=None, help="backtranslate --translator marian: torch device (default cuda if present).")
@click.option("--batch-size", type=int, default=None, help="backtranslate: texts per request or forward pass (default 8).")
@click.option("--mix-mode", "mix_modes", multiple=True, type=click.Choice(["concat", "system"]),
              help="mix: concat (two tasks in one) and/or system (swap system prompts); default concat.")
@click.option("--mix-ratio", type=float, default=None, help="mix: mixed records per input record, per mode (default 0.1).")
@click.option("--config", "config_path", default=None, metavar="FILE", help="YAML/JSON with augment, llm and clean sections.")
@click.option("--strict", is_flag=True, help="Stop at the first unreadable input line instead of rejecting it.")
@input_options
@llm_options
def command(inputs: tuple[str, ...], output: str, methods: tuple[str, ...], rejects: str | None, fields: str | None,
            rewrite_factual: bool | None, copies: int | None, seed: int | None, replace: bool | None,
            ratio: float | None, languages: tuple[str, ...], wordnet_dir: str | None, pivot: str | None,
            translator: str | None, model_dirs: tuple[str, ...], device: str | None, batch_size: int | None,
            mix_modes: tuple[str, ...], mix_ratio: float | None, config_path: str | None, strict: bool,
            fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None, **llm_flags: Any) -> None:
    """Augment IN... into OUT: each record is written, followed by its augmented copies.

    Methods: `synonym` replaces about --ratio of the words with true synonyms (Chinese: jieba +
    HIT Cilin `=` groups; English: WordNet), never inside names, numbers, code or quotes;
    `backtranslate` translates each field to a pivot language and back (an OpenAI-compatible LLM,
    or local MarianMT models with --translator marian); `mix` (opt-in) joins two independent tasks
    into one, or swaps system prompts. Code, URLs, numbers, {placeholders} and $formulas$ stay
    exactly as they are. Every copy must pass the clean filters and a drift check against its
    source (length ratio, similarity neither ~1 nor too low), else it goes to --rejects with the
    reason. Copies carry meta.augmented_from (the source id) and meta.method, so `datacraft
    export` keeps them on their source's side of the split. LLM replies are cached in
    OUT.run/cache.sqlite (with `-o -`, give --cache PATH): rerunning an interrupted run pays only
    for what was not answered yet.

    Example:

    \b
        datacraft augment data.jsonl -o aug.jsonl --method synonym --ratio 0.15 --seed 1
        datacraft augment data.jsonl -o aug.jsonl --method backtranslate --pivot en \\
            --base-url http://localhost:8000/v1 --model qwen2.5-7b-instruct --rejects rej.jsonl
        datacraft augment data.jsonl -o aug.jsonl --method backtranslate --translator marian \\
            --model-dir zh-en=./opus-mt-zh-en --model-dir en-zh=./opus-mt-en-zh
        datacraft augment data.jsonl -o aug.jsonl --method synonym --method mix --mix-mode concat
    """
    sections = load_sections(config_path)
    where = config_path or "config"
    given = {"ratio": ratio, "languages": languages or None, "wordnet_dir": wordnet_dir, "pivot": pivot,
             "translator": translator, "model_dirs": model_dirs or None, "device": device, "batch_size": batch_size,
             "mix_modes": mix_modes or None, "mix_ratio": mix_ratio}
    flags = {
        "methods": list(dict.fromkeys(methods)) or None, "fields": _fields(fields), "copies": copies, "seed": seed,
        "replace": True if replace else None, "protect_factual": False if rewrite_factual else None,
        "synonym.ratio": ratio, "synonym.languages": list(languages) or None, "synonym.wordnet_dir": wordnet_dir,
        "backtranslate.pivot": pivot, "backtranslate.translator": translator, "backtranslate.device": device,
        "backtranslate.model_dirs": _model_dirs(model_dirs), "backtranslate.batch_size": batch_size,
        "mix.modes": list(mix_modes) or None, "mix.ratio": mix_ratio,
    }
    check_paths(inputs, {"output": output, "--rejects": rejects})
    config = augment_config(sections, where, **flags)
    _check_method_options(config.methods, given)
    settings = config.backtranslate
    if model_dirs and settings.translator != "marian":
        raise ConfigError("--model-dir is for --translator marian")
    llm = None
    if "backtranslate" in config.methods and settings.translator == "llm":
        llm = llm_config(sections, where, llm_flags)
    clean = validate_section(CleanConfig, sections.get("clean"), f"{where}: clean")
    bar = _progress_bar() if sys.stderr.isatty() else None
    try:
        result = augment_file(list(inputs), output, rejects=rejects, config=config, clean=clean, llm=llm,
                              read_options=read_options(fmt, encoding, mapping, split), strict=strict,
                              progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    for line in summary_lines(result, output, rejects):
        click.echo(line, err=output == "-")


def _fields(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [f.strip() for f in value.split(",") if f.strip()]
    if not names:
        raise ConfigError("--fields: name at least one of instruction, input, output")
    return names


def _model_dirs(values: tuple[str, ...]) -> dict[str, str] | None:
    if not values:
        return None
    from datacraft.augment.marian import parse_model_dirs

    return parse_model_dirs(values)


def _check_method_options(methods: list[str], given: dict[str, Any]) -> None:
    for method, names in _METHOD_OPTIONS.items():
        if method in methods:
            continue
        for name in names:
            if given.get(name) not in (None, (), []):
                option = "--" + {"languages": "lang", "model_dirs": "model-dir", "mix_modes": "mix-mode"}.get(
                    name, name.replace("_", "-"))
                raise ConfigError(f"{option} is an option of --method {method}, which is not chosen")


class _progress_bar:  # noqa: N801 - reads like a function at the call site
    """tqdm on stderr: records read so far."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(unit="rec", desc="augment", file=sys.stderr, dynamic_ncols=True)

    def update(self, done: int) -> None:
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def summary_lines(result: dict[str, Any], output: str, rejects: str | None) -> list[str]:
    """Totals, then per method what it produced and rejected, with reasons."""
    augmented = result["kept"] - result["originals"]
    lines = [f"read {result['read']}, wrote {result['kept']} ({result['originals']} originals + {augmented} augmented), "
             f"rejected {result['rejected']}"]
    unreadable = result["stages"]["read"]["rejected"]
    if unreadable:
        lines.append(f"  read           unreadable {unreadable:>6}")
    for method, counts in result["methods"].items():
        lines.append(f"  {method:<14} produced {counts['produced']:>6}  rejected {counts['rejected']:>6}")
        lines.extend(f"      {reason:<26} {n:>6}" for reason, n in counts["reasons"].items())
    usage = result.get("usage")
    if usage:
        lines.append(f"  llm: {usage['requests']} requests (+{usage['cached']} from cache, {usage['retries']} retries), "
                     f"{usage['prompt_tokens'] + usage['completion_tokens']:,} tokens")
    target = "stdout" if output == "-" else output
    lines.append(f"wrote {result['kept']} records to {target}" + (f", rejects to {rejects}" if rejects else ""))
    return lines
