"""English synonyms through nltk's real WordNet reader, on a tiny database in the WordNet file format."""

from __future__ import annotations

import random

import pytest

from datacraft.augment.synonyms_en import EnglishSynonyms, load_wordnet
from datacraft.errors import ConfigError
from tests.augment.wordnet_db import SYNSETS


@pytest.fixture(scope="module")
def english(wordnet_dir) -> EnglishSynonyms:
    return EnglishSynonyms(wordnet_dir=str(wordnet_dir), tagger=None)


def test_the_reader_reads_the_database(wordnet_dir):
    wn = load_wordnet(str(wordnet_dir))
    assert [s.lemma_names() for s in wn.synsets("car")] == [SYNSETS["n"][0][1]]
    assert {s.pos() for s in wn.synsets("run")} == {"n", "v"}
    assert wn.synsets("cars")[0].lemma_names()[0] == "car"  # morphy finds the base form


def test_replacements_are_first_sense_synonyms_of_the_same_part_of_speech(english):
    new, pairs = english.replace("My car is quick and I drive quickly.", random.Random(0), 1.0)
    found = dict(pairs)
    assert set(found) == {"car", "quick", "quickly"}
    assert found["car"] in {"auto", "automobile", "motorcar"}
    assert found["quick"] in {"speedy", "fast"}
    assert found["quickly"] in {"rapidly", "speedily"}  # "chop-chop" is not a single word
    assert new.startswith("My ") and new.endswith(".")


def test_ambiguous_inflected_stop_and_capitalised_words_are_left_alone(english):
    text = "The run was fast. They run and Cars buy things. Car makers Happy Holidays quality"
    new, pairs = english.replace(text, random.Random(1), 1.0)
    replaced = {old for old, _ in pairs}
    assert "run" not in replaced  # noun and verb
    assert "fast" not in replaced  # adjective and adverb
    assert "Happy" not in replaced and "Holidays" not in replaced  # capitalised inside a sentence: a name
    assert "The" not in replaced and "and" not in replaced  # stop words
    assert "Cars" not in replaced  # capitalised inside a sentence (and inflected)
    assert replaced == {"Car", "buy", "quality"}  # sentence-initial "Car" is an ordinary word


def test_case_and_article_follow_the_replacement(english):
    new, _ = english.replace("Car trouble.", random.Random(0), 1.0)
    assert new.split()[0] in {"Auto", "Automobile", "Motorcar"}
    for seed in range(10):
        new, pairs = english.replace("I saw a car.", random.Random(seed), 1.0)
        word = pairs[0][1]
        assert new == f"I saw {'an' if word[0] in 'aeiou' else 'a'} {word}."


def test_protected_spans_and_quotes_are_kept(english):
    text = 'Use `car` at https://car.example.com for {car} and "car" but buy a car'
    new, pairs = english.replace(text, random.Random(0), 1.0)
    assert new.startswith('Use `car` at https://car.example.com for {car} and "car" but ')
    assert {old for old, _ in pairs} == {"buy", "car"}


def test_missing_wordnet_data_names_the_install_command(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.delenv("NLTK_DATA", raising=False)
    with pytest.raises(ConfigError, match=r"needs WordNet data, which is not installed: python -m nltk.downloader "
                                          r"wordnet omw-1.4 averaged_perceptron_tagger_eng"):
        load_wordnet(None)
    with pytest.raises(ConfigError, match="not a WordNet dict folder"):
        load_wordnet(str(tmp_path))


class _Tagger:
    """A part-of-speech tagger with nltk's interface: tag(words) -> [(word, Penn tag)]."""

    def __init__(self, tags: dict[str, str]):
        self.tags = tags

    def tag(self, words: list[str]) -> list[tuple[str, str]]:
        return [(w, self.tags.get(w, "NN")) for w in words]


def test_a_tagger_decides_the_part_of_speech(wordnet_dir):
    wn = load_wordnet(str(wordnet_dir))
    as_adverb = EnglishSynonyms(wn, tagger=_Tagger({"run": "VB", "fast": "RB", "They": "PRP"}))
    assert as_adverb.replace("They run fast", random.Random(0), 1.0) == ("They run fast", [])  # lone senses
    as_adjective = EnglishSynonyms(wn, tagger=_Tagger({"run": "VB", "fast": "JJ", "They": "PRP"}))
    _, pairs = as_adjective.replace("They run fast", random.Random(0), 1.0)
    assert [old for old, _ in pairs] == ["fast"] and pairs[0][1] in {"quick", "speedy"}
    as_past = EnglishSynonyms(wn, tagger=_Tagger({"buy": "VBD"}))
    assert as_past.replace("They buy", random.Random(0), 1.0)[1] == []  # only base-form tags are replaced
