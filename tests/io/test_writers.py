import os

import pytest

from datacraft.errors import ConfigError
from datacraft.io import JsonlWriter, atomic_write, check_not_input


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), JsonlWriter(target) as writer:
        writer.write({"a": 1})
        raise RuntimeError("crash mid-way")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_atomic_write_replaces_on_success(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_write(target, "w", encoding="utf-8") as handle:
        handle.write("new")
    assert target.read_text(encoding="utf-8") == "new"


def test_jsonl_writer_keeps_cjk_readable(tmp_path):
    with JsonlWriter(tmp_path / "o.jsonl") as writer:
        writer.write({"instruction": "你好"})
    assert (tmp_path / "o.jsonl").read_text(encoding="utf-8") == '{"instruction":"你好"}\n'


def test_output_may_not_be_an_input(tmp_path):
    src = tmp_path / "in.jsonl"
    with pytest.raises(ConfigError, match="is also an input"):
        check_not_input(str(tmp_path / "." / "in.jsonl"), [str(src)])
    check_not_input("-", [str(src)])


def test_an_os_error_without_errno_keeps_its_words(tmp_path):
    from datacraft.errors import describe_os_error

    out = tmp_path / "out.jsonl"
    with pytest.raises(OSError) as caught:
        with atomic_write(str(out)) as handle:
            handle.write(b"x")
            raise OSError("stream closed")
    assert describe_os_error(caught.value) == f"{out}: stream closed"
    assert not out.exists() and not list(tmp_path.iterdir())
