"""`python -m datacraft ...`: the same command line as the `datacraft` script."""

from datacraft.cli import cli

if __name__ == "__main__":  # tests/test_regex_audit.py imports every module: this one must not run the CLI then
    cli(prog_name="datacraft")
