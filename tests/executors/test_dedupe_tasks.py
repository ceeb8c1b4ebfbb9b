"""The exact-dedupe shuffle's per-bucket rule, without Ray: the same drops as the local stage's."""

import random

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from datacraft.executors.dedupe_tasks import later_copies


def _expected(rows: list[tuple[str, int, str]]) -> dict[int, str]:
    first: dict[str, tuple[int, str]] = {}
    for key, pos, ref in sorted(rows, key=lambda r: r[1]):
        first.setdefault(key, (pos, ref))
    return {pos: first[key][1] for key, pos, _ in rows if first[key][0] != pos}


def _bucket(rows: list[tuple[str, int, str]]) -> pa.Table:
    return pa.table({"bucket": pa.array([0] * len(rows), pa.int64()),
                     "key": pa.array([r[0] for r in rows], pa.string()),
                     "pos": pa.array([r[1] for r in rows], pa.int64()),
                     "ref": pa.array([r[2] for r in rows], pa.string())})


def test_every_later_copy_points_at_its_keys_lowest_position() -> None:
    rows = [("b", 7, "r7"), ("a", 3, "r3"), ("b", 2, "r2"), ("c", 5, "r5"), ("a", 9, "r9"), ("b", 4, "r4")]
    out = later_copies(_bucket(rows))
    assert dict(zip(out["pos"].to_pylist(), out["first"].to_pylist(), strict=True)) == {7: "r2", 4: "r2", 9: "r3"}


def test_a_bucket_without_copies_or_rows() -> None:
    assert later_copies(_bucket([("a", 1, "x"), ("b", 0, "y")])).num_rows == 0
    assert later_copies(_bucket([])).num_rows == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 10_000)), max_size=60, unique_by=lambda r: r[1]),
       st.randoms())
def test_same_drops_as_the_first_record_wins_rule(pairs: list[tuple[str, int]], rnd: random.Random) -> None:
    rows = [(key, pos, f"ref{pos}") for key, pos in pairs]
    rnd.shuffle(rows)
    out = later_copies(_bucket(rows))
    assert dict(zip(out["pos"].to_pylist(), out["first"].to_pylist(), strict=True)) == _expected(rows)
