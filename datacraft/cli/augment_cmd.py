"""`datacraft augment`: more records from the ones you have, by synonyms, back-translation, paraphrase, EDA and mixing."""

from __future__ import annotations

import difflib
import re
import sys
from typing import Any

import click

from datacraft.augment import augment_config, augment_file, load_sections
from datacraft.augment.clients import needs_llm
from datacraft.augment.config import EDA_METHODS, METHODS
from datacraft.augment.preview import preview
from datacraft.augment.turns import ROLES, TextView
from datacraft.clean import CleanConfig
from datacraft.cli.base import (
    config_option,
    input_options,
    read_options,
    rejects_option,
    strict_option,
)
from datacraft.cli.llm_options import llm_config, llm_options
from datacraft.config import validate_section
from datacraft.errors import ConfigError
from datacraft.runner import check_paths

# Options that only mean something for one method: given without it, they are a mistake.
_METHOD_OPTIONS = {
    "synonym": ("ratio", "languages", "wordnet_dir", "source", "terms", "pairs", "max_words"),
    "backtranslate": ("pivot", "translator", "model_dirs", "device", "batch_size"),
    "mix": ("mix_modes", "mix_ratio"),
}


@click.command("augment")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("-o", "--output", default=None, metavar="OUT", help="Originals plus augmented records, JSONL (`-` for stdout).")
@click.option("--method", "methods", multiple=True, type=click.Choice(METHODS),
              help="synonym (default), backtranslate, paraphrase, swap, delete, insert, noise or mix; repeatable, run in the order given.")
@click.option("--dry-run", "dry_run", type=click.IntRange(min=1), default=None, metavar="N",
              help="Show N before/after pairs with the changed words marked, and write nothing.")
@click.option("--judge", is_flag=True, default=None,
              help="Ask the LLM (--model) whether each copy keeps the meaning and reads naturally; a no goes to --rejects.")
@rejects_option(more="Here a dropped record is a rejected copy, its stage the method.")
@click.option("--fields", default=None, metavar="F,F", help="Fields to rewrite (default instruction,input,output; in a chat, instruction is every user turn, output every answer).")
@click.option("--roles", default=None, metavar="R,R", help="Turns to rewrite by role: user, assistant, system (default user,assistant); tool calls never.")
@click.option("--rewrite-factual", is_flag=True, default=None,
              help="Also rewrite input and output of factual and code tasks (by default they are left alone).")
@click.option("--copies", type=int, default=None, help="Augmented copies per record and method (default 1).")
@click.option("--seed", type=int, default=None, help="Random seed: the same seed and input give the same output (default 0).")
@click.option("--replace", is_flag=True, default=None, help="Write only the augmented records, not the originals.")
@click.option("--ratio", type=float, default=None, help="synonym: share of the words to replace (default 0.15).")
@click.option("--source", type=click.Choice(["curated", "thesaurus"]), default=None,
              help="synonym: reviewed pairs (curated, default) or any Cilin/WordNet synonym (thesaurus: many wrong words).")
@click.option("--terms", multiple=True, metavar="FILE",
              help="synonym: a file of terms never replaced or split (one per line, or jieba user-dict lines); repeatable.")
@click.option("--pairs", default=None, metavar="FILE", help="synonym: your own pairs (TSV: word, replacements, rules), added to the shipped ones.")
@click.option("--max-words", type=int, default=None, help="synonym: most distinct words replaced per copy (default 4).")
@click.option("--eda-ratio", type=float, default=None, help="swap/delete/insert/noise: share of the words they touch (default 0.1).")
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
@click.option("--max-requests", type=int, default=None, help="LLM methods and --judge: stop sending after this many requests.")
@click.option("--max-cost", type=float, default=None, help="LLM methods and --judge: stop before the estimated cost passes this (USD).")
@config_option("YAML/JSON with augment, llm and clean sections.")
@strict_option
@input_options
@llm_options
def command(inputs: tuple[str, ...], output: str | None, methods: tuple[str, ...], dry_run: int | None, judge: bool | None,
            rejects: str | None, fields: str | None, roles: str | None,
            rewrite_factual: bool | None, copies: int | None, seed: int | None, replace: bool | None,
            ratio: float | None, source: str | None, terms: tuple[str, ...], pairs: str | None, max_words: int | None,
            eda_ratio: float | None, languages: tuple[str, ...], wordnet_dir: str | None, pivot: str | None,
            translator: str | None, model_dirs: tuple[str, ...], device: str | None, batch_size: int | None,
            mix_modes: tuple[str, ...], mix_ratio: float | None, max_requests: int | None, max_cost: float | None,
            config_path: str | None, strict: bool,
            fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None, **llm_flags: Any) -> None:
    """Augment IN... into OUT: each record is written, followed by its augmented copies.

    Methods: `synonym` (default) replaces words only with partners from a reviewed list of pairs
    that fit the context (Chinese and English; --source thesaurus takes any Cilin/WordNet
    synonym instead), never inside terms, names, numbers, code, quotes or word-list answers, and
    one word the same way everywhere in the record; `backtranslate` translates each field to a
    pivot language and back (an OpenAI-compatible LLM, or local MarianMT models with
    --translator marian); `paraphrase` has the LLM reword each field; `swap`, `delete`, `insert`
    and `noise` are EDA's word and character operations on the prompt (opt-in, for robustness
    data: their copies are not fluent); `mix` joins two tasks into one, or swaps system prompts.
    Code, URLs, numbers, {placeholders} and $formulas$ stay exactly as they are. Every copy must
    pass the clean filters and a drift check against its source (length ratio, similarity neither
    ~1 nor too low), and with --judge an LLM's yes, else it goes to --rejects with the reason.
    Copies carry meta.augmented_from and meta.method, so `datacraft export` keeps them on their
    source's side of the split. LLM replies are cached in OUT.run/cache.sqlite (with `-o -`, give
    --cache PATH): rerunning an interrupted run pays only for what was not answered yet.
    --dry-run N shows what a method does before you double a dataset with it.

    Example:

    \b
        datacraft augment data.jsonl --dry-run 5
        datacraft augment data.jsonl -o aug.jsonl --method synonym --terms my_terms.txt --seed 1
        datacraft augment data.jsonl -o aug.jsonl --method paraphrase --judge \\
            --base-url http://localhost:8000/v1 --model qwen2.5-7b-instruct --rejects rej.jsonl
        datacraft augment data.jsonl -o aug.jsonl --method backtranslate --pivot en \\
            --base-url http://localhost:8000/v1 --model qwen2.5-7b-instruct --rejects rej.jsonl
        datacraft augment data.jsonl -o aug.jsonl --method backtranslate --translator marian \\
            --model-dir zh-en=./opus-mt-zh-en --model-dir en-zh=./opus-mt-en-zh
        datacraft augment data.jsonl -o aug.jsonl --method synonym --method mix --mix-mode concat
    """
    sections = load_sections(config_path)
    where = config_path or "config"
    if output is None and dry_run is None:
        raise click.UsageError("Missing option '-o' / '--output' (or pass --dry-run N to only look).")
    if dry_run is not None and (output is not None or rejects is not None):
        raise ConfigError("--dry-run writes nothing: leave out -o and --rejects")
    given = {"ratio": ratio, "source": source, "terms": terms or None, "pairs": pairs, "max_words": max_words,
             "eda_ratio": eda_ratio, "languages": languages or None, "wordnet_dir": wordnet_dir, "pivot": pivot,
             "translator": translator, "model_dirs": model_dirs or None, "device": device, "batch_size": batch_size,
             "mix_modes": mix_modes or None, "mix_ratio": mix_ratio}
    flags = {
        "methods": list(dict.fromkeys(methods)) or None, "fields": _fields(fields), "roles": _names(roles, "--roles", "user, assistant, system"), "copies": copies, "seed": seed,
        "replace": True if replace else None, "protect_factual": False if rewrite_factual else None,
        "synonym.ratio": ratio, "synonym.languages": list(languages) or None, "synonym.wordnet_dir": wordnet_dir,
        "synonym.source": source, "synonym.terms": list(terms) or None, "synonym.pairs": pairs,
        "synonym.max_words": max_words, "eda.ratio": eda_ratio, "judge.enabled": judge,
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
    llm = llm_config(sections, where, llm_flags) if needs_llm(config) else None
    clean = validate_section(CleanConfig, sections.get("clean"), f"{where}: clean")
    if dry_run is not None:
        pairs_, result = preview(list(inputs), dry_run, config=config, clean=clean, llm=llm,
                                 read_options=read_options(fmt, encoding, mapping, split), strict=strict)
        _show(pairs_, result, dry_run)
        return
    assert output is not None
    bar = _progress_bar() if sys.stderr.isatty() else None
    try:
        result = augment_file(list(inputs), output, rejects=rejects, config=config, clean=clean, llm=llm,
                              read_options=read_options(fmt, encoding, mapping, split), strict=strict,
                              progress=bar.update if bar else None, budget=_budget(max_requests, max_cost, llm))
    finally:
        if bar:
            bar.close()
    for line in summary_lines(result, output, rejects):
        click.echo(line, err=output == "-")


def _budget(max_requests: int | None, max_cost: float | None, llm: Any) -> Any:
    if max_requests is None and max_cost is None:
        return None
    if llm is None:
        raise ConfigError("--max-requests and --max-cost cap LLM requests: use them with --method backtranslate, "
                          "paraphrase or --judge")
    from datacraft.llm import Budget

    return Budget(max_requests, max_cost)


def _fields(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [f.strip() for f in value.split(",") if f.strip()]
    if not names:
        raise ConfigError("--fields: name at least one of instruction, input, output")
    return names


def _names(value: str | None, option: str, choices: str) -> list[str] | None:
    if value is None:
        return None
    names = [f.strip() for f in value.split(",") if f.strip()]
    if not names:
        raise ConfigError(f"{option}: name at least one of {choices}")
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
    if given.get("eda_ratio") is not None and not set(EDA_METHODS) & set(methods):
        raise ConfigError("--eda-ratio is an option of --method swap, delete, insert or noise, none of which is chosen")


_TOKEN = re.compile(r"[\u3400-\u9fff]|[A-Za-z0-9_'’-]+|\s+|.", re.S)


def highlight(before: str, after: str, color: bool) -> tuple[str, str]:
    """Both texts with what differs marked: red/green in a terminal, else [-removed-] and {+added+}.

    >>> highlight("Write a short poem", "Compose a short poem", False)
    ('[-Write-] a short poem', '{+Compose+} a short poem')
    """
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    left, right = [], []
    for op, a, b, c, d in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            left.append("".join(old[a:b]))
            right.append("".join(new[c:d]))
            continue
        if b > a:
            text = "".join(old[a:b])
            left.append(click.style(text, fg="red", bold=True) if color else f"[-{text}-]")
        if d > c:
            text = "".join(new[c:d])
            right.append(click.style(text, fg="green", bold=True) if color else f"{{+{text}+}}")
    return "".join(left), "".join(right)


def _show(pairs: list[tuple[dict, dict]], result: dict[str, Any], wanted: int) -> None:
    color = sys.stdout.isatty()
    for number, (source, copy) in enumerate(pairs, 1):
        method = (copy.get("meta") or {}).get("method", "?")
        click.echo(f"── {number}/{len(pairs)}  {source.get('id')} -> {copy.get('id')}  ({method})")
        before, after = TextView(source, ROLES), TextView(copy, ROLES)  # every turn of any form, by slot
        for name in before:
            if after.get(name) == before[name]:
                continue
            old, new = highlight(before[name], str(after.get(name) or ""), color)
            click.echo(f"  {name}:\n    before: {_indent(old)}\n    after:  {_indent(new)}")
    counts = ", ".join(f"{m} produced {c['produced']}, rejected {c['rejected']}"
                       + (f" ({', '.join(f'{r} {n}' for r, n in c['reasons'].items())})" if c["reasons"] else "")
                       for m, c in result["methods"].items())
    shown = f"{len(pairs)} pair{'s' if len(pairs) != 1 else ''}" + ("" if len(pairs) >= wanted else f" (of {wanted} asked: the input ran out)")
    click.echo(f"dry run: {shown} from {result['read']} records read; {counts}; nothing written")


def _indent(text: str) -> str:
    return text.replace("\n", "\n            ")


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
        cost = "unknown (no price for this model)" if usage.get("cost") is None else f"${usage['cost']:.4f}"
        lines.append(f"  llm: {usage['requests']} requests (+{usage['cached']} from cache, {usage['retries']} retries), "
                     f"{usage['prompt_tokens'] + usage['completion_tokens']:,} tokens, cost {cost}")
    target = "stdout" if output == "-" else output
    lines.append(f"wrote {result['kept']} records to {target}" + (f", rejects to {rejects}" if rejects else ""))
    return lines
