"""`datacraft mix`: add a rehearsal share of general data to a domain set (against catastrophic forgetting)."""

from __future__ import annotations

import click

from datacraft.cli.base import (
    input_options,
    read_options,
    rejects_option,
    stats_option,
    strict_option,
)
from datacraft.dedupe import DedupeConfig
from datacraft.mix import mix_file


@click.command("mix")
@click.argument("domain", nargs=-1, required=True, metavar="DOMAIN...")
@click.option("--general", multiple=True, required=True, metavar="GENERAL",
              help="General data to rehearse (any format datacraft reads); repeatable, one source per file.")
@click.option("--ratio", type=float, default=0.2, show_default=True,
              help="Share of the output that is general data (0.2 = one record in five).")
@click.option("--by", type=click.Choice(["records", "tokens"]), default="records", show_default=True,
              help="Count the share in records (exact) or tokens (words + CJK characters, within 1%).")
@click.option("--tokenizer", default=None, metavar="NAME|PATH",
              help="Count --by tokens with this tokenizer (a local folder or a cached Hugging Face name).")
@click.option("-o", "--output", required=True, metavar="OUT", help="Mixed records, JSONL (`-` for stdout).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for sampling and shuffling.")
@rejects_option(more="Here: general records dropped as duplicates of domain or general data.")
@stats_option(more="Here also the counts per source and the share reached.")
@click.option("--source-key", default=None, metavar="KEY",
              help="Stratify by meta.KEY (e.g. source) instead of by file; records without it count as their file.")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=0.8, show_default=True,
              help="Near-duplicate Jaccard threshold for dropping general records that copy domain or general ones.")
@click.option("--no-dedupe", is_flag=True, help="Sample general records as they are.")
@click.option("--no-shuffle", is_flag=True, help="Write domain records first, then general ones, instead of interleaving.")
@strict_option
@input_options
def command(domain: tuple[str, ...], general: tuple[str, ...], ratio: float, by: str, tokenizer: str | None,
            output: str, seed: int,
            rejects: str | None, stats_path: str | None, source_key: str | None, threshold: float, no_dedupe: bool,
            no_shuffle: bool, strict: bool, fmt: str | None, encoding: str | None, mapping: tuple[str, ...],
            split: str | None) -> None:
    """Mix DOMAIN... with a --ratio share of --general data into OUT, to counter catastrophic forgetting.

    General records are deduplicated (exactly, and near-duplicates of each other or of any domain
    record) and then sampled per source, in proportion to what each source has left, so that they
    make --ratio of the output: exactly (to the nearest record) --by records, within 1% --by
    tokens. Every output record carries meta.mix_source (its file, or meta.KEY with --source-key)
    and meta.mix_role (domain or general). The same --seed gives the same file.

    Example:

    \b
        datacraft mix medical.jsonl --general alpaca_en.json --general alpaca_zh.json --ratio 0.2 -o mixed.jsonl
        datacraft mix legal.jsonl --general general.jsonl --ratio 0.3 --by tokens -o mixed.jsonl --seed 7 --stats mix.json
    """
    dedupe = DedupeConfig(enabled=not no_dedupe, threshold=threshold)
    result = mix_file(list(domain), list(general), output, ratio=ratio, by=by, seed=seed, rejects=rejects,  # type: ignore[arg-type]
                      stats=stats_path, dedupe=dedupe, source_key=source_key, shuffle=not no_shuffle,
                      read_options=read_options(fmt, encoding, mapping, split), strict=strict, tokenizer=tokenizer)
    err = output == "-"
    general_out = sum(s["sampled"] for s in result["general"].values())
    click.echo(f"domain {result['domain']['records']} records, general {general_out} records: "
               f"general share {result['share_records']:.2%} of records, {result['share_tokens']:.2%} of tokens "
               f"(asked {ratio:.2%} by {by})", err=err)
    for name, stage in result["stages"].items():
        if name == "sample":
            left = stage["reasons"].get("not_sampled", 0)
            click.echo(f"  sample        left out {left:>6}  (not sampled; unchanged in GENERAL, not written to rejects)", err=err)
        elif stage["rejected"]:
            reasons = ", ".join(f"{reason} {n}" for reason, n in stage["reasons"].items())
            click.echo(f"  {name:<13} dropped {stage['rejected']:>7}  ({reasons})", err=err)
    for name, source in result["general"].items():
        click.echo(f"  general {name}: sampled {source['sampled']} of {source['available']} "
                   f"({source['tokens']} tokens)", err=err)
    target = "stdout" if output == "-" else output
    click.echo(f"wrote {result['kept']} records to {target}" + (f", rejects to {rejects}" if rejects else ""), err=err)
