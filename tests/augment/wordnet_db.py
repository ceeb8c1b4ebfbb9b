"""A tiny WordNet database in the real WordNet 3.0 file format (data.*, index.*, *.exc), for nltk's reader.

Offsets are byte offsets, as the format requires, so nltk's WordNetCorpusReader reads it with the
same code path as the full database. No `lexnames` file is written: the reader under test supplies
the standard list, as it must for Debian's wordnet-base.
"""

from __future__ import annotations

from pathlib import Path

# pos -> [(lexfile number, lemmas, gloss)], synsets in sense order (most frequent first).
SYNSETS = {
    "n": [(6, ["car", "auto", "automobile", "motorcar"], "a motor vehicle with four wheels"),
          (9, ["example", "illustration", "instance"], "an item of information that is typical"),
          (4, ["run", "tally"], "a score in baseball"),
          (7, ["quality", "caliber", "calibre"], "a degree or grade of excellence"),
          (12, ["happiness", "felicity"], "state of well-being")],
    "v": [(40, ["buy", "purchase"], "obtain by purchase"),
          (38, ["run"], "move fast by using one's feet"),
          (36, ["create", "make"], "make or cause to be")],
    "a": [(0, ["happy", "glad"], "enjoying or showing joy"),
          (0, ["quick", "speedy", "fast"], "accomplished rapidly")],
    "r": [(2, ["quickly", "rapidly", "speedily", "chop-chop"], "with rapid movements"),
          (2, ["fast"], "quickly or rapidly")],
}
_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}


def write_wordnet(root: Path) -> Path:
    """Write the database into `root` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    for pos, synsets in SYNSETS.items():
        lines: list[bytes] = []
        offset = 0
        index: dict[str, list[int]] = {}
        for lexfile, lemmas, gloss in synsets:
            words = " ".join(f"{lemma} 0" for lemma in lemmas)
            frames = " 01 + 02 00" if pos == "v" else ""
            line = f"{offset:08d} {lexfile:02d} {pos} {len(lemmas):02x} {words} 000{frames} | {gloss}\n".encode()
            lines.append(line)
            for lemma in lemmas:
                index.setdefault(lemma, []).append(offset)
            offset += len(line)
        (root / f"data.{_FILES[pos]}").write_bytes(b"".join(lines))
        entries = [f"{lemma} {pos} {len(offs)} 0 {len(offs)} 0 {' '.join(f'{o:08d}' for o in offs)}\n"
                   for lemma, offs in sorted(index.items())]
        (root / f"index.{_FILES[pos]}").write_text("".join(entries), encoding="utf-8")
        (root / f"{_FILES[pos]}.exc").write_text("", encoding="utf-8")
    return root
