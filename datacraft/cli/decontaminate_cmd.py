"""`datacraft decontaminate`: drop training records that copy, reword or translate an eval item."""

from __future__ import annotations

import click

from datacraft.augment.marian import parse_model_dirs
from datacraft.cli.base import (
    input_options,
    read_options,
    rejects_option,
    stage_summary,
    strict_option,
)
from datacraft.cli.llm_options import llm_config, llm_options
from datacraft.decontam import decontaminate_file, make_decontam_config
from datacraft.errors import ConfigError


@click.command("decontaminate")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--against", multiple=True, required=True, metavar="EVAL",
              help="Eval set (any format datacraft reads); repeatable, one benchmark per file.")
@click.option("-o", "--output", required=True, metavar="OUT", help="Kept records, JSONL (`-` for stdout).")
@rejects_option(more="The detail names the eval item and the span it copies.")
@click.option("--report", "report_path", default=None, metavar="PATH", help="Per-benchmark contamination rates, JSON.")
@click.option("--ngram", "ngram_word", type=click.IntRange(min=1), default=None, help="Word n-gram size (default 13).")
@click.option("--ngram-cjk", type=click.IntRange(min=1), default=None, help="Character n-gram size for CJK (default 13).")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Matched share of the eval item that makes a copy (default 0.5).")
@click.option("--word-candidates", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Also diff an eval item when a record holds this weighted share of its rare words (default 0.7).")
@click.option("--ngram-only", is_flag=True, help="Candidates from shared n-grams only (the GPT-3 recipe as is).")
@click.option("--eval-text", type=click.Choice(["prompt", "all"]), default=None,
              help="Compare the eval question only (default) or question and answer.")
@click.option("--cross-lingual", is_flag=True, default=None,
              help="Also match eval items translated once through the LLM (cached); needs --model.")
@click.option("--translate-to", default=None, metavar="LANGS", help="Comma-separated languages (default en,zh).")
@click.option("--translator", type=click.Choice(["llm", "marian"]), default=None,
              help="Who translates for --cross-lingual: the LLM (default, cached) or local MarianMT models.")
@click.option("--model-dir", "model_dirs", multiple=True, metavar="PAIR=PATH",
              help="MarianMT folder per direction, e.g. --model-dir en-zh=./opus-mt-en-zh (repeatable).")
@click.option("--judge", is_flag=True, default=None, help="Ask the LLM about borderline candidates; needs --model.")
@strict_option
@llm_options
@input_options
def command(inputs: tuple[str, ...], against: tuple[str, ...], output: str, rejects: str | None,
            report_path: str | None, ngram_word: int | None, ngram_cjk: int | None, threshold: float | None,
            word_candidates: float | None, ngram_only: bool, eval_text: str | None, cross_lingual: bool | None, translate_to: str | None, translator: str | None,
            model_dirs: tuple[str, ...], judge: bool | None,
            strict: bool, fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None,
            **llm_flags: object) -> None:
    """Drop records of IN... (`-` for stdin) that copy an item of an --against eval set into OUT.

    Candidates share a word 13-gram (character 13-gram for Chinese, Japanese, Korean; lower for a
    benchmark of short items, as GPT-3 did) with an eval item, or hold most of its rare words
    (--word-candidates, for short items one edit leaves no n-gram in); a candidate is a copy when
    difflib's matched runs cover at least --threshold of the eval item (Cosmopedia, Phi-1) and
    8 words / 12 CJK characters; a shorter item is a copy only of a prompt or turn equal to it.
    --cross-lingual translates each eval item once (cached) and matches the translations too;
    --judge asks the model about borderline candidates and about records that share most of an
    item's rare words but no n-gram (rewordings), as LMSYS's LLM decontaminator does. Each
    dropped record goes to --rejects with the benchmark, the eval item's id and text, the matched
    share and the longest matched span; --report writes the contamination rate per benchmark.

    Example:

    \b
        datacraft decontaminate train.jsonl --against gsm8k_test.jsonl -o clean.jsonl --rejects leaks.jsonl
        datacraft decontaminate train.jsonl --against mmlu.csv --against ceval.json -o clean.jsonl \\
            --report contamination.json --cross-lingual --judge --model qwen2.5 --base-url http://localhost:8000/v1
    """
    if (translator or model_dirs or translate_to) and not cross_lingual:
        raise ConfigError("--translator, --model-dir and --translate-to choose how --cross-lingual translates; "
                          "add --cross-lingual")
    if ngram_only and word_candidates is not None:
        raise ConfigError("--ngram-only and --word-candidates contradict each other; give one")
    config = make_decontam_config(
        word_candidates=word_candidates, ngram_word=ngram_word, ngram_cjk=ngram_cjk, threshold=threshold, eval_text=eval_text,
        cross_lingual=cross_lingual, judge=judge, translator=translator,
        model_dirs=parse_model_dirs(model_dirs) if model_dirs else None,
        translate_to=[t.strip() for t in translate_to.split(",") if t.strip()] if translate_to else None)
    if ngram_only:
        config.word_candidates = None
    llm = llm_config({}, "decontaminate", llm_flags) if llm_flags.get("model") else None
    result = decontaminate_file(list(inputs), output, against=list(against), rejects=rejects, report=report_path,
                                config=config, llm=llm, read_options=read_options(fmt, encoding, mapping, split),
                                strict=strict)
    to_stderr = output == "-"
    for line in stage_summary(result, output, rejects):
        click.echo(line, err=to_stderr)
    for name, bench in result["report"]["benchmarks"].items():
        click.echo(f"  {name}: {bench['contaminated_items']} of {bench['items']} eval items found "
                   f"({bench['contamination_rate']:.1%}), {bench['training_records_dropped']} training records dropped",
                   err=to_stderr)
    for name, bench in result["report"]["benchmarks"].items():
        if bench["unreadable_rows"]:
            click.echo(f"note: {name}: {bench['unreadable_rows']} unreadable rows were not checked "
                       f"(first: {bench['first_unreadable']}); --strict stops at them", err=True)
    if result["report"].get("judge"):
        click.echo("  judge: " + ", ".join(f"{k} {v}" for k, v in sorted(result["report"]["judge"].items())), err=to_stderr)
    if report_path:
        click.echo(f"report: {report_path}", err=to_stderr)
    if result["read"] and not result["kept"]:
        raise click.ClickException("every record was dropped: is --against the training data itself?")
