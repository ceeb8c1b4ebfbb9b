"""`datacraft generate`: new Alpaca records from seed examples (or documents) with an LLM, in resumable rounds."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from datacraft.clean import CleanConfig
from datacraft.cli.base import config_option, rejects_option
from datacraft.cli.llm_options import llm_config, llm_options
from datacraft.config import validate_section
from datacraft.errors import ConfigError
from datacraft.generate import run_generation
from datacraft.generate.config import generate_config, load_sections

STOPPED = {
    "target": "reached -n",
    "rounds": "ran the requested rounds",
    "max_requests": "hit --max-requests",
    "max_cost": "hit --max-cost",
    "documents_used_up": "every document chunk was used",
    "prompts_used_up": "every seed prompt has its preference pair (or its reject)",
    "no_progress": "many requests in a row gave no usable item (see the rejects)",
    "interrupted": "interrupted",
    "terminated": "terminated (SIGTERM)",
}
# Stops that leave the job short of -n through no choice of the user's: a non-zero exit.
FAILED_STOPS = {"no_progress"}


@click.command("generate")
@click.option("--seeds", default=None, metavar="FILE",
              help="Seed examples (--kind preference: prompts): Alpaca, ShareGPT or OpenAI chat, or Stanford seed_tasks.jsonl.")
@click.option("--from-docs", "docs", multiple=True, metavar="FILE",
              help="Ask for Q&A pairs grounded in these documents (JSONL with `text`, or .txt/.md); repeatable.")
@click.option("-n", "n", type=int, default=None, help="Accepted records to end with (default 100).")
@click.option("-o", "--output", required=True, metavar="OUT", help="Generated records (JSONL); reruns resume it.")
@rejects_option(more="Here: every rejected item and unusable reply.")
@click.option("--feedback", default=None, metavar="FILE",
              help="Bad examples with reasons (from `datacraft review`), shown to the model as counter-examples.")
@click.option("--rounds", type=int, default=None, help="Rounds to run now (default: until -n).")
@click.option("--round-size", type=int, default=None, help="Accepted records per round; the feedback file is re-read each round.")
@click.option("--batch-size", type=int, default=None, help="Records asked for per request (default 5).")
@click.option("--lang", type=click.Choice(["auto", "en", "zh", "zh-Hans", "zh-Hant", "ja", "ko", "other"]), default=None,
              help="Prompt language (default auto: the seeds', or each passage's; other: the fallback prompt).")
@click.option("--application", default=None, metavar="TEXT", help="What the dataset is for, told to the model.")
@click.option("--criterion", "criteria", multiple=True, metavar="TEXT", help="An extra quality rule for the model; repeatable.")
@click.option("--kind", type=click.Choice(["single", "multi-turn", "preference"]), default=None,
              help="single: instruction/answer records (default); multi-turn: conversations (--turns); "
                   "preference: a chosen/rejected pair for each seed's prompt, ranked by the LLM as judge.")
@click.option("--turns", default=None, metavar="N|LOW-HIGH", help="--kind multi-turn: user turns per conversation (default 2-4).")
@click.option("--temperatures", default=None, metavar="T1,T2,...",
              help="--kind preference: one candidate answer per temperature (default 0.3,1.0).")
@click.option("--models", default=None, metavar="M1,M2,...",
              help="--kind preference: models that write the candidates (same endpoint); --model judges.")
@click.option("--dry-run", is_flag=True, help="Print the first request exactly as it would be sent, and send nothing.")
@click.option("--prompt", "prompt_path", default=None, metavar="FILE", help="Your own Jinja2 prompt template.")
@click.option("--seed", type=int, default=None, help="Sampling seed: which seeds each request shows.")
@click.option("--max-requests", type=int, default=None, help="Stop after this many paid requests in this run.")
@click.option("--max-cost", type=float, default=None, help="Stop before the estimated cost of this run passes this (USD).")
@click.option("--restart", is_flag=True, help="Forget the earlier run of this -o (cached replies stay free).")
@config_option("YAML/JSON with llm, generate and clean sections.")
@llm_options
def command(seeds: str | None, docs: tuple[str, ...], n: int | None, output: str, rejects: str | None,
            feedback: str | None, rounds: int | None, round_size: int | None, batch_size: int | None,
            lang: str | None, application: str | None, criteria: tuple[str, ...], kind: str | None,
            turns: str | None, temperatures: str | None, models: str | None, dry_run: bool, prompt_path: str | None, seed: int | None, max_requests: int | None,
            max_cost: float | None, restart: bool, config_path: str | None, **llm_flags: Any) -> None:
    """Generate new Alpaca records from seed examples (or documents) with any OpenAI-compatible LLM.

    Each request shows the model a few seeds (and records accepted in earlier rounds) plus the
    counter-examples in --feedback, and asks for a batch of new records as JSON. Every record is
    checked (Alpaca schema, clean filters, ROUGE-L novelty against the seeds and everything
    accepted) and what fails goes to --rejects with the reason. Stops at -n, a budget, or Ctrl-C;
    rerunning the same command resumes without losing or paying again for accepted work. The API
    key is read from $OPENAI_API_KEY (or --api-key-env).

    --kind multi-turn asks for whole conversations (--turns user turns each); every follow-up
    must refer back to the turns before it. --kind preference answers each seed's prompt once
    per temperature (and --models), and the --model judge ranks the answers into chosen/rejected.

    Example:

    \b
        datacraft generate --seeds seeds.jsonl -n 20 -o gen.jsonl --model gpt-4o-mini
        datacraft review gen.jsonl --feedback feedback.jsonl -o reviewed.jsonl
        datacraft generate --seeds seeds.jsonl -n 1000 -o gen.jsonl --feedback feedback.jsonl \\
            --round-size 200 --max-cost 5 --model gpt-4o-mini
        datacraft generate --from-docs docs.jsonl -n 300 -o qa.jsonl --base-url http://localhost:8000/v1 --model qwen
        datacraft generate --seeds seeds.jsonl --kind multi-turn --turns 2-4 -n 50 -o chats.jsonl --model gpt-4o-mini
        datacraft generate --seeds prompts.jsonl --kind preference -n 50 -o pairs.jsonl --model gpt-4o-mini
    """
    sections = load_sections(config_path)
    where = config_path or "config"
    config = generate_config(sections, where, n=n, rounds=rounds, round_size=round_size, batch_size=batch_size,
                             lang=lang, prompt=prompt_path, seed=seed, application=application,
                             criteria=list(criteria) or None, kind=kind, turns=turns,
                             temperatures=_numbers(temperatures, "--temperatures"),
                             models=[m.strip() for m in models.split(",") if m.strip()] if models else None)
    for value, option, wanted in ((turns, "--turns", "multi-turn"), (temperatures, "--temperatures", "preference"),
                                  (models, "--models", "preference")):
        if value is not None and config.kind != wanted:
            raise ConfigError(f"{option} is for --kind {wanted} (this run is --kind {config.kind})")
    clean = validate_section(CleanConfig, sections.get("clean"), f"{where}: clean")
    llm = llm_config(sections, where, llm_flags)
    if dry_run:
        preview = run_generation(output, llm=llm, seeds=seeds, docs=docs, feedback=feedback, rejects=rejects,
                                 config=config, clean=clean, max_cost=max_cost, restart=restart, dry_run=True)
        click.echo(json.dumps(preview["request"], ensure_ascii=False, indent=2))
        click.echo(f"dry run: this is the next request to {llm.base_url}; nothing was sent or written", err=True)
        return
    bar = _progress_bar(config.n)
    try:
        summary = run_generation(output, llm=llm, seeds=seeds, docs=docs, feedback=feedback, rejects=rejects,
                                 config=config, clean=clean, max_requests=max_requests, max_cost=max_cost,
                                 restart=restart, progress=bar.update if bar else None,
                                 warn=lambda message: click.echo(f"Warning: {message}", err=True))
    finally:
        if bar:
            bar.close()
    for line in summary_lines(summary, rejects):
        click.echo(line)
    if summary["stopped"] in ("interrupted", "terminated"):
        click.echo("Interrupted: accepted records are saved; rerun the same command to resume.", err=True)
        sys.exit(130 if summary["stopped"] == "interrupted" else 143)
    if summary["stopped"] in FAILED_STOPS or not summary["written"]:
        why = STOPPED.get(summary["stopped"], summary["stopped"])
        click.echo(f"Error: stopped with {summary['written']} of -n {summary['n']} records: {why}. "
                   "Fix the prompt, the filters or the endpoint, then rerun the same command to resume.", err=True)
        sys.exit(1)


def _numbers(value: str | None, option: str) -> list[float] | None:
    """"0.3,1.0" -> [0.3, 1.0]; a bad list is a usage error before any work starts."""
    if value is None:
        return None
    try:
        return [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {value!r}", param_hint=option) from None


class _Bar:
    """tqdm on stderr: accepted / rejected / requests / tokens / cost."""

    def __init__(self, total: int):
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit="rec", desc="accepted", file=sys.stderr, dynamic_ncols=True)

    def update(self, stats: dict[str, Any]) -> None:
        self._bar.n = min(stats["accepted"], self._bar.total)
        tokens = stats["prompt_tokens"] + stats["completion_tokens"]
        cost = "?" if stats["cost"] is None else f"${stats['cost']:.3f}"
        self._bar.set_postfix_str(f"rejected {stats['rejected']}, requests {stats['requests']}"
                                  f"+{stats['cached']} cached, tokens {tokens:,}, cost {cost}", refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def _progress_bar(total: int) -> _Bar | None:
    return _Bar(total) if sys.stderr.isatty() else None


def summary_lines(summary: dict[str, Any], rejects: str | None) -> list[str]:
    """Totals, why the run stopped, the top reject reasons, where things were written."""
    usage = summary["usage"]
    cost = "unknown (no price for this model)" if usage["cost"] is None else f"${usage['cost']:.4f}"
    lines = [
        f"accepted {summary['accepted']} (wrote {summary['written']} of -n {summary['n']} to {summary['output']}), "
        f"rejected {summary['rejected']}",
        f"this run: {usage['requests']} requests (+{usage['cached']} from cache, {usage['retries']} retries), "
        f"{usage['prompt_tokens'] + usage['completion_tokens']:,} tokens, cost {cost}",
        f"stopped: {STOPPED.get(summary['stopped'], summary['stopped'])}",
    ]
    if summary["reasons"]:
        lines.append("top reject reasons:")
        lines.extend(f"  {reason:<24} {count:>6}" for reason, count in list(summary["reasons"].items())[:8])
    lines.append(f"manifest: {summary['manifest']}" + (f", rejects: {rejects}" if rejects else ""))
    return lines
