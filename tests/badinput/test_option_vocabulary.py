"""One option vocabulary: a shared option has the same help text and meaning in every command.

`--format` is the input format everywhere (export writes the layout given by `--to`); `--strict`
makes the first unreadable input line fatal everywhere (validate's check of unknown fields is
`--forbid-extra`); `--rejects`, `--stats`, `--config` and `-o` read alike.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.cli.base import FORMAT_HELP, REJECTS_HELP, STATS_HELP, STRICT_HELP
from datacraft.io.readers import FORMATS
from datacraft.registry import check_stage


def _commands() -> list[tuple[str, click.Command]]:
    out = []
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        if isinstance(command, click.Group):
            out += [(f"{name} {sub}", command.get_command(None, sub)) for sub in command.list_commands(None)]  # type: ignore[arg-type]
        else:
            out.append((name, command))
    return out


def _option(command: click.Command, flag: str) -> click.Option | None:
    return next((p for p in command.params if isinstance(p, click.Option) and flag in p.opts), None)


COMMANDS = _commands()


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_shared_options_read_alike(name: str, command: click.Command) -> None:
    fmt = _option(command, "--format")
    if fmt is not None:
        assert fmt.help == FORMAT_HELP
        assert list(fmt.type.choices) == list(FORMATS)  # type: ignore[attr-defined]
    strict = _option(command, "--strict")
    if strict is not None:
        assert strict.help == STRICT_HELP and strict.is_flag
    rejects = _option(command, "--rejects")
    if rejects is not None:
        assert rejects.help.startswith(REJECTS_HELP) and rejects.metavar == "PATH"
    stats = _option(command, "--stats")
    if stats is not None:
        assert stats.help.startswith(STATS_HELP) and stats.metavar == "PATH"
    config = _option(command, "--config")
    if config is not None:
        assert config.metavar == "PATH" and config.name == "config_path"
    output = _option(command, "-o")
    if output is not None:
        # -o is the record file a command writes (`-` for stdout where it streams), or a folder.
        assert "--output" in output.opts and output.metavar == "OUT" or {"--out-dir", "--output-dir"} & set(output.opts)


def test_every_reading_command_has_the_input_options() -> None:
    readers = {"augment", "clean", "decontaminate", "dedupe", "export", "ingest", "mix", "stats", "validate"}
    assert {name for name, command in COMMANDS if _option(command, "--format") is not None} >= readers


BAD_LINE = '{"instruction": "a", "output": "b"}\n{not json\n{"instruction": "c", "output": "d"}\n'


def _strict_args(name: str, path: Path, out: Path) -> list[str]:
    args = {"clean": ["-o", str(out / "o.jsonl")], "dedupe": ["-o", str(out / "o.jsonl")],
            "augment": ["-o", str(out / "o.jsonl"), "--method", "mix"], "validate": [],
            "export": ["--out-dir", str(out / "e")], "ingest": ["-o", str(out / "o.jsonl")],
            "decontaminate": ["-o", str(out / "o.jsonl"), "--against", str(path)],
            "mix": ["--general", str(path), "-o", str(out / "o.jsonl")]}
    return [name, str(path), *args[name], "--strict"]


@pytest.mark.parametrize("name", ["clean", "dedupe", "augment", "validate", "export", "ingest", "decontaminate", "mix"])
def test_strict_means_the_first_unreadable_line_is_fatal(name: str, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(BAD_LINE, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(cli, _strict_args(name, path, out))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1].startswith(f"Error: {path}:2: ")
    assert not any(out.rglob("*.jsonl"))  # nothing half-written


def test_pipeline_export_takes_to_and_still_format() -> None:
    assert check_stage("export", {"to": "sharegpt"}, "p.yaml").layout == "sharegpt"
    assert check_stage("export", {"format": "openai"}, "p.yaml").layout == "openai"
    assert check_stage("export", {}, "p.yaml").layout == "alpaca"
    with pytest.raises(Exception, match="disagree"):
        check_stage("export", {"to": "sharegpt", "format": "openai"}, "p.yaml")
    assert check_stage("validate", {"forbid_extra": True}, "p.yaml").forbid_extra
