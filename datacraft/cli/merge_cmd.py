"""`datacraft merge`: fold a trained adapter into its base model, as one loadable model folder."""

from __future__ import annotations

import click

from datacraft.cli.train_cmd import prepare


@click.command("merge")
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output-dir", required=True, metavar="DIR", help="New folder for the merged model.")
@click.option("--base", default=None, metavar="PATH_OR_HUB_ID",
              help="Base model (default: the one the adapter records, as given at training time).")
@click.option("--dtype", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32", show_default=True,
              help="Precision of the merged weights.")
def command(run: str, output_dir: str, base: str | None, dtype: str) -> None:
    """Merge the LoRA/DoRA adapter of RUN (a `datacraft train` output, or an adapter folder) into its
    base model and save model and tokenizer to OUTPUT_DIR, which `transformers` (and vLLM, llama.cpp's
    converter) load without peft.

    Example:

        datacraft merge runs/qwen -o runs/qwen-merged
    """
    prepare()
    from datacraft.train.merge import merge_adapter

    result = merge_adapter(run, output_dir, base=base, dtype=dtype)
    kind = "DoRA" if result["dora"] else "LoRA"
    click.echo(f"merged the {kind} adapter {result['adapter']} into {result['base']}: "
               f"{result['parameters']:,} parameters, wrote {result['output']}")
