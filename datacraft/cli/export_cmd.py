"""`datacraft export`: write LLaMA-Factory training files with a leak-free validation split."""

from __future__ import annotations

import click

from datacraft.clean.system_prompt import system_prompt_step
from datacraft.cli.base import (
    LAYOUTS,
    deprecated,
    echo_err,
    input_options,
    read_options,
    strict_option,
)
from datacraft.cli.system_options import system_options
from datacraft.errors import ConfigError
from datacraft.export import export_dataset
from datacraft.io.readers import FORMATS


@click.command("export")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--to", "to", type=click.Choice(LAYOUTS), default=None,
              help="Output layout: alpaca (default), sharegpt or openai.")
@click.option("--out-dir", "-o", required=True, type=click.Path(file_okay=False),
              help="Folder for the files and dataset_info.json (e.g. LLaMA-Factory's data/).")
@click.option("--val-size", type=float, default=0.1, show_default=True,
              help="Validation share: a fraction below 1, or a number of records (>= 1); 0 = no validation file.")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed for the split.")
@click.option("--name", default="datacraft", show_default=True,
              help="Dataset name: files are NAME_train/NAME_validation, entries in dataset_info.json too.")
@click.option("--file-format", type=click.Choice(["jsonl", "json"]), default="jsonl", show_default=True,
              help="JSON Lines or one JSON array per file (LLaMA-Factory reads both).")
@click.option("--no-group-duplicates", is_flag=True,
              help="Let duplicates and near-duplicates fall on either side (document and augmentation groups still hold).")
@click.option("--no-stratify", is_flag=True, help="Do not give validation the same language mix as the data.")
@strict_option
@click.option("--input-format", type=click.Choice(FORMATS), default=None, hidden=True,
              help="Deprecated: the input format is --format, as in every command.")
@input_options(legacy_formats=LAYOUTS)
@system_options
def command(inputs: tuple[str, ...], to: str | None, out_dir: str, val_size: float, seed: int, name: str,
            file_format: str, no_group_duplicates: bool, no_stratify: bool, strict: bool,
            input_format: str | None, fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None,
            system: str | None, system_mode: str, system_if_missing: bool) -> None:
    """Export records as Alpaca, ShareGPT or OpenAI chat files that LLaMA-Factory loads as is.

    Writes NAME_train and NAME_validation files, adds their entries to OUT_DIR/dataset_info.json
    (other entries are kept), puts each record's id/meta in NAME_provenance.jsonl and records that
    fail the format's checks in NAME_rejects.jsonl. Near-duplicates, chunks of one document
    (meta.doc_id, meta.source_doc, meta.chunk.doc_id) and augmented copies (meta.augmented_from)
    always land on the same side of the split.

    Example:

        datacraft export clean.jsonl --to sharegpt --out-dir LLaMA-Factory/data --name mydata

        # then in the LLaMA-Factory config: dataset: mydata_train, eval_dataset: mydata_validation
    """
    to, fmt = _layout(to, fmt, input_format)
    result = export_dataset(
        list(inputs), out_dir, fmt=to, val_size=val_size, seed=seed, name=name, file_format=file_format,
        group_near_duplicates=not no_group_duplicates, stratify=not no_stratify, strict=strict,
        read_options=read_options(fmt, encoding, mapping, split),
        transform=system_prompt_step(system, mode=system_mode, if_missing=system_if_missing),  # type: ignore[arg-type]
    )
    files = result["files"]
    click.echo(f"exported {result['kept']} of {result['read']} records as {to}: "
               f"train {result['train']}, validation {result['validation']}, rejected {result['rejected']}")
    click.echo(f"  groups {result['groups']} ({result['grouped_records']} records share a group; "
               f"largest {result['largest_group']})")
    for reason, n in result["reasons"].items():
        click.echo(f"  rejected {n:>6}  {reason}")
    for split_name in ("train", "validation"):
        if split_name in files:
            click.echo(f"  {split_name:<10} {files[split_name]}")
    click.echo(f"  dataset_info.json: {', '.join(result['datasets'])}")
    for note in result["notes"]:
        echo_err(f"note: {note}")
    if result["rejected"]:
        echo_err(f"rejects: {files['rejects']}")


def _layout(to: str | None, fmt: str | None, input_format: str | None) -> tuple[str, str | None]:
    """(output layout, input format) from --to and the deprecated --format LAYOUT / --input-format."""
    if fmt in LAYOUTS:
        deprecated(f"export --format {fmt} is deprecated: use --to {fmt} (--format is the input format in every command)")
        if to is not None and to != fmt:
            raise ConfigError(f"--to {to} and --format {fmt} disagree: give the output layout once, with --to")
        to, fmt = fmt, None
    if input_format is not None:
        deprecated(f"export --input-format is deprecated: use --format {input_format}")
        if fmt is not None and fmt != input_format:
            raise ConfigError(f"--format {fmt} and --input-format {input_format} disagree: give the input format once")
        fmt = input_format
    return to or "alpaca", fmt
