"""The quality guard: clean filters first, then drift against the source; each failure has its reason."""

from __future__ import annotations

import pytest

from datacraft.augment import Guard, GuardConfig, similarity
from datacraft.clean import CleanConfig

SOURCE = {"instruction": "Describe a good morning routine for a busy student.", "input": "",
          "output": "Wake up early, drink water, stretch for five minutes and plan the three most important tasks."}


def copy(**fields):
    return {**SOURCE, **fields}


@pytest.mark.parametrize(("candidate", "fields", "reason"), [
    (copy(), ["instruction"], "unchanged"),
    (copy(output=SOURCE["output"].replace("tasks.", "tasks today.")), ["output"], "too_similar"),
    (copy(instruction="Bananas are yellow and grow in warm countries."), ["instruction"], "drifted"),
    (copy(instruction="Describe routine."), ["instruction"], "length_drift"),
    (copy(instruction=" ".join(["Describe a good morning routine for a busy student"] * 3)), ["instruction"], "length_drift"),
    (copy(instruction="为忙碌的学生描述一个良好的早晨习惯。"), ["instruction"], "language_changed"),
    (copy(output="As an AI language model, I cannot describe routines."), ["output"], "refusal"),
    (copy(output=""), ["output"], "empty_field"),
])
def test_each_failure_has_its_reason(candidate, fields, reason):
    ok, got, detail = Guard()(candidate, SOURCE, fields)
    assert (ok, got) == (False, reason), detail
    assert detail


def test_a_real_paraphrase_passes_and_thresholds_can_be_switched_off():
    paraphrase = copy(instruction="Describe a fine morning habit for a busy student.")
    assert Guard()(paraphrase, SOURCE, ["instruction"]) == (True, "", "")
    # One word added to the 16 of the answer: similarity 0.97, nothing new for training.
    near_copy = copy(output=SOURCE["output"].replace("tasks.", "tasks today."))
    assert Guard()(near_copy, SOURCE, ["output"])[1] == "too_similar"
    assert Guard(GuardConfig(max_similarity=None))(near_copy, SOURCE, ["output"]) == (True, "", "")
    # The field that changed most decides: a reworded instruction is a new prompt even when the
    # long answer kept all but one word (over both fields the similarity is 0.96).
    reworded = copy(instruction="Describe a good morning routine for a busy pupil.",
                    output=SOURCE["output"].replace("important", "key"))
    assert Guard()(reworded, SOURCE, ["instruction", "output"]) == (True, "", "")
    strict_clean = Guard(clean=CleanConfig(filters={"blacklist": ["habit"]}))
    assert strict_clean(paraphrase, SOURCE, ["instruction"])[1] == "blacklisted_keyword"


def test_similarity_counts_chinese_characters_and_english_words():
    assert similarity("今天天气很好", "今天天气很好") == 1.0
    assert similarity("今天天气很好", "今日天气不错") == pytest.approx(0.5)
    assert similarity("a b c d", "a b x y") == pytest.approx(0.5)
