"""The system saying no: a full disk, a file size limit, a folder that cannot be written, a killed run."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from datacraft.io.writers import remove_stale_temps

GOOD = '{"instruction": "Explain what a hash table is in one sentence.", "output": "A hash table maps keys to values."}\n'
CLI = [sys.executable, "-c", "from datacraft.cli import cli; cli()"]
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _input(tmp_path: Path, lines: int = 3) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(GOOD.replace("table", f"table {i}") for i in range(lines)), encoding="utf-8")
    return path


def test_a_full_disk_on_stdout_is_exit_3_with_a_message(tmp_path):
    source = _input(tmp_path)
    with open("/dev/full", "wb") as full:
        done = subprocess.run([*CLI, "clean", str(source), "-o", "-"], stdout=full, stderr=subprocess.PIPE,
                              text=True, env=ENV, timeout=120)
    assert done.returncode == 3
    assert "Error: stdout: No space left on device (the disk is full" in done.stderr
    assert "Traceback" not in done.stderr


def _limit_file_size():  # runs in the child: files may not grow past 200 bytes
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))


def test_a_file_that_cannot_grow_is_exit_3_and_leaves_no_temp_file(tmp_path):
    source, out = _input(tmp_path, 20), tmp_path / "out" / "clean.jsonl"
    done = subprocess.run([*CLI, "clean", str(source), "-o", str(out)], capture_output=True, text=True, env=ENV,
                          preexec_fn=_limit_file_size, timeout=120)
    assert done.returncode == 3, done.stderr
    assert f"Error: {out}: File too large" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_exit_3(tmp_path):
    source = _input(tmp_path)
    if os.geteuid() == 0:  # root writes anywhere chmod allows nothing: use a folder the kernel owns
        out = Path("/sys/datacraft-test/out.jsonl")
        if os.access("/sys", os.W_OK) and not Path("/sys").is_mount():
            pytest.skip("no unwritable folder for root here")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        out = folder / "out.jsonl"
    done = subprocess.run([*CLI, "clean", str(source), "-o", str(out)], capture_output=True, text=True, env=ENV,
                          timeout=120)
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("Error: ") and str(out.parent) in done.stderr and "Traceback" not in done.stderr


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from datacraft.io.writers import JsonlWriter
    with JsonlWriter(sys.argv[1]) as writer:
        writer.write({"instruction": "half", "output": "written"})
        os.kill(os.getpid(), signal.SIGKILL)
""")


def test_temp_files_of_a_killed_run_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "clean.jsonl"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(out)], env=ENV, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and not out.exists()
    # A writer that is still running keeps its temp file.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".clean.jsonl.{sleeper.pid}.abcd1234.tmp"
        live.write_text("in progress", encoding="utf-8")
        done = subprocess.run([*CLI, "clean", str(_input(tmp_path)), "-o", str(out)], capture_output=True,
                              text=True, env=ENV, timeout=120)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [live.name]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert [p.name for p in remove_stale_temps(out)] == [live.name]


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("command, target, resumes", [
    (["clean", "IN", "-o", "OUT"], "datacraft.cli.clean_cmd.clean_file", False),
    (["ingest", "http://127.0.0.1:9/start.html", "-o", "OUT"], "datacraft.cli.ingest_cmd.ingest", True),
])
def test_rerun_to_resume_is_said_only_where_a_rerun_resumes(tmp_path, monkeypatch, command, target, resumes):
    from click.testing import CliRunner

    from datacraft.cli import cli

    monkeypatch.setattr(target, _interrupt)  # Ctrl-C in the middle of the work
    args = [str(_input(tmp_path)) if a == "IN" else str(tmp_path / "out.jsonl") if a == "OUT" else a for a in command]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 130
    assert "Interrupted: no partial output was written." in result.stderr
    assert ("Rerun to resume" in result.stderr) is resumes
