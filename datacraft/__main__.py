"""`python -m datacraft ...`: the same command line as the `datacraft` script."""

from datacraft.cli import cli

cli(prog_name="datacraft")
