"""English synonym replacement from WordNet, through nltk's WordNet reader.

WordNet data is not bundled. Install it once, either way:
    python -m nltk.downloader wordnet omw-1.4 averaged_perceptron_tagger_eng
    apt-get install wordnet-base        # Debian/Ubuntu; then --wordnet-dir /usr/share/wordnet
A word is replaced only by a lemma of its most frequent sense (the first synset in WordNet's order
that lists the word itself) with the same part of speech, and only when the word is written in its
base form (a lemma: "runs" is left alone because "operates" could not be put back into the right
inflection). Part of speech comes from nltk's perceptron tagger when its data is installed; without
it, a word is replaced only when WordNet can read it under a single part of speech, as a base form
("quickly", "beautiful"), never when it is ambiguous ("run": noun or verb; "means": the noun, or
the verb "mean"). Stop words, short words, acronyms,
capitalised words inside a sentence (names) and protected spans (code, URLs, numbers, quotes) are
never touched.
"""

from __future__ import annotations

import io
import random
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from datacraft.augment.protect import segments
from datacraft.errors import ConfigError

INSTALL = ("python -m nltk.downloader wordnet omw-1.4 averaged_perceptron_tagger_eng "
           "(or apt-get install wordnet-base and pass --wordnet-dir /usr/share/wordnet)")
# nltk's English stop-word list, plus very general verbs whose synonyms rarely fit.
STOP_WORDS = frozenset("""
a about above after again against ain all am an and any are aren't as at be because been before being below
between both but by can couldn't did didn't do does doesn't doing don't down during each few for from further
had hadn't has hasn't have haven't having he her here hers herself him himself his how i if in into is isn't
it it's its itself just ll me mightn't more most mustn't my myself needn't no nor not now o of off on once only
or other our ours ourselves out over own re same shan't she she's should should've shouldn't so some such t
than that that'll the their theirs them themselves then there these they this those through to too under
until up ve very was wasn't we were weren't what when where which while who whom why will with won't wouldn't
y you you'd you'll you're you've your yours yourself yourselves get got make made go going take say said
also may might must shall would could one two many much well way use used like
""".split())
# The 45 lexicographer files of WordNet 3.0, for dict folders that lack `lexnames` (Debian's wordnet-base).
_LEXNAMES = ("adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
             "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
             "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
             "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
             "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
             "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather "
             "adj.ppl").split()
_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")
_PENN = {"NN": "n", "VB": "v", "VBP": "v", "JJ": "a", "RB": "r"}  # base-form tags only


def load_wordnet(wordnet_dir: str | None = None) -> Any:
    """A WordNetCorpusReader over `wordnet_dir`, else over NLTK's installed data; ConfigError when missing."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    if wordnet_dir is None:
        from nltk.corpus import wordnet

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wordnet.ensure_loaded()
        except LookupError:
            raise ConfigError(f"English synonym replacement needs WordNet data, which is not installed: {INSTALL}; "
                              "or rewrite Chinese text only with --lang zh") from None
        return wordnet
    root = Path(wordnet_dir)
    if not (root / "index.noun").is_file() or not (root / "data.noun").is_file():
        raise ConfigError(f"{wordnet_dir}: not a WordNet dict folder (index.noun/data.noun missing); install it: {INSTALL}")

    import nltk

    if str(root.resolve()) not in nltk.data.path:
        nltk.data.path.append(str(root.resolve()))  # nltk reads corpora only under its data paths

    class Reader(WordNetCorpusReader):
        def open(self, fileid: str) -> Any:
            if fileid == "lexnames" and not (root / "lexnames").is_file():
                return io.StringIO("".join(f"{i:02d}\t{name}\t{i // 1}\n" for i, name in enumerate(_LEXNAMES)))
            return super().open(fileid)

        def map_wn(self, version: str = "wordnet") -> None:
            return None  # the mapping to NLTK's own WordNet only serves multilingual look-ups

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": not needed here
        return Reader(str(root.resolve()), None)


def load_tagger() -> Any | None:
    """nltk's perceptron POS tagger when its data is installed, else None (the WordNet-only rule applies)."""
    import nltk

    try:
        nltk.data.find("taggers/averaged_perceptron_tagger_eng/")
    except LookupError:
        return None
    from nltk.tag import PerceptronTagger

    return PerceptronTagger()


class EnglishSynonyms:
    """`rewrite(text, rng, ratio)` replaces about `ratio` of the words with WordNet synonyms."""

    def __init__(self, wordnet: Any = None, tagger: Any = "auto", wordnet_dir: str | None = None):
        self.wordnet = wordnet if wordnet is not None else load_wordnet(wordnet_dir)
        self.tagger = load_tagger() if tagger == "auto" else tagger
        self.synonyms = lru_cache(maxsize=100_000)(self._synonyms)
        self.only_pos = lru_cache(maxsize=100_000)(self._only_pos)

    def rewrite(self, text: str, rng: random.Random, ratio: float) -> tuple[str, int]:
        """(new text, words replaced); deterministic for a given rng state."""
        new, pairs = self.replace(text, rng, ratio)
        return new, len(pairs)

    def replace(self, text: str, rng: random.Random, ratio: float) -> tuple[str, list[tuple[str, str]]]:
        """(new text, [(word, replacement), ...] right to left)."""
        pieces = [list(p) for p in segments(text)]
        slots: list[tuple[int, re.Match[str], tuple[str, ...]]] = []
        words = 0
        for index, (piece, protected) in enumerate(pieces):
            if protected:
                continue
            matches = list(_WORD.finditer(piece))
            words += len(matches)
            tags = self._tags([m.group() for m in matches])
            for match, tag in zip(matches, tags, strict=True):
                options = self._options(piece, match, tag)
                if options:
                    slots.append((index, match, options))
        if not slots:
            return text, []
        count = min(len(slots), max(1, round(ratio * words)))
        chosen = sorted(rng.sample(range(len(slots)), count), reverse=True)  # right to left keeps offsets valid
        pairs: list[tuple[str, str]] = []
        for slot in chosen:
            index, match, options = slots[slot]
            choice = rng.choice(options)
            pairs.append((match.group(), choice))
            pieces[index][0] = _replace(pieces[index][0], match, choice)
        return "".join(piece for piece, _ in pieces), pairs

    def _tags(self, words: list[str]) -> list[str | None]:
        if self.tagger is None or not words:
            return [None] * len(words)
        return [_PENN.get(tag) or "-" for _, tag in self.tagger.tag(words)]

    def _options(self, piece: str, match: re.Match[str], tag: str | None) -> tuple[str, ...]:
        word = match.group()
        lower = word.lower()
        if len(word) < 3 or not word.isalpha() or lower in STOP_WORDS or tag == "-":
            return ()
        if word.isupper() or (word[0].isupper() and not _sentence_start(piece[:match.start()])):
            return ()  # an acronym, or a capitalised word inside a sentence: probably a name
        pos = tag or self.only_pos(lower)
        return self.synonyms(lower, pos) if pos else ()

    def _only_pos(self, word: str) -> str | None:
        """The part of speech when `word` can be read under exactly one, and as its base form there.

        "means" is skipped (the noun "means", or the verb "mean"), and so is "making".
        """
        readings = {pos: self.wordnet.morphy(word, pos) for pos in "nvar"}
        found = [pos for pos, base in readings.items() if base is not None]
        return found[0] if len(found) == 1 and readings[found[0]] == word else None

    def _synonyms(self, word: str, pos: str) -> tuple[str, ...]:
        """Single-word lemmas of the first sense of `word` as `pos` that lists `word` itself."""
        poses = ("a", "s") if pos == "a" else (pos,)
        for synset in self.wordnet.synsets(word, pos):
            if synset.pos() not in poses or word not in synset.lemma_names():
                continue
            names = dict.fromkeys(n.lower() for n in synset.lemma_names())
            return tuple(n for n in names if n != word and n.isalpha() and n not in STOP_WORDS and len(n) >= 3)
        return ()


def _replace(piece: str, match: re.Match[str], synonym: str) -> str:
    """Put `synonym` where `match` was, in the same case, fixing a preceding a/an."""
    word = match.group()
    if word[0].isupper():
        synonym = synonym[0].upper() + synonym[1:]
    return fix_article(piece[:match.start()], synonym) + synonym + piece[match.end():]


def fix_article(before: str, word: str) -> str:
    """`before` with a trailing a/an made to fit `word`.

    >>> fix_article("It is a ", "apple"), fix_article("An ", "pear")
    ('It is an ', 'A ')
    """
    article = re.search(r"\b([Aa]n?)(\s+)$", before)
    if not article:
        return before
    wanted = "an" if word[0].lower() in "aeiou" else "a"
    if article.group(1)[0] == "A":
        wanted = wanted.capitalize()
    return before[:article.start(1)] + wanted + article.group(2)


def _sentence_start(before: str) -> bool:
    """True when `before` is empty or ends a sentence, a line or an opening quote (then spaces).

    A string test, not a `$`-anchored regex: searched from every position, that one was quadratic.

    >>> _sentence_start("It rained. "), _sentence_start("the "), _sentence_start("said “")
    (True, False, True)
    """
    body = before.rstrip()
    if before in ("", "\n") or "\n" in before[len(body):]:
        return True
    return bool(body) and body[-1] in '.!?:"“('
