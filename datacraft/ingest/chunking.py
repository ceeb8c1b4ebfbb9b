"""Cut documents into chunks at the strongest boundary that fits: heading, paragraph, sentence, word.

Every chunk is a slice of the document (`text[start:end]`, trimmed), so offsets stay exact and
overlapping chunks share real text. Sentences end at 。！？；… (no space needed) as well as at
.!?; followed by a space; closing quotes and brackets stay with their sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from datacraft.errors import ConfigError
from datacraft.records import Record

# Boundary strengths: where a chunk may end, best first. AFTER_HEADING keeps a heading with its text.
HEADING, PARAGRAPH, SENTENCE, WORD, AFTER_HEADING = 4, 3, 2, 1, -1
# A cut at a boundary is taken only once the chunk is at least this full, so chunks are not tiny.
_MIN_FILL = {HEADING: 0.2, PARAGRAPH: 0.4, SENTENCE: 0.5, WORD: 0.7}
_CHARS_PER_TOKEN = 8  # a first guess on the generous side: real tokenizers average 1-5 characters per token
_PARAGRAPH = re.compile(r"\n[ \t\r]*(?:\n[ \t\r]*)+")
_HEADING_LINE = re.compile(r"#{1,6}[ \t]+(.*?)[ \t#]*(?:\n|\Z)")
_CLOSERS = "\"'”’)\\]」』）》"
# A fenced code block (``` or ~~~, up to the same fence or the end): one unit, cut only if it cannot fit.
_FENCE = re.compile(r"^([ \t]*(`{3,}(?!`)|~{3,}(?!~)))[^\n]*\n.*?(?:^[ \t]*\2[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_SENTENCE = re.compile(rf"(?:[。！？；…]+|(?<![.!?;])[.!?;]+(?=[\s{_CLOSERS}]|\Z))[{_CLOSERS}]*[ \t]*|\n[ \t]*")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document: `text` is `document[start:end]`."""

    text: str
    start: int
    end: int
    index: int
    section: str = ""  # the Markdown heading the chunk starts under; "" before the first one


@dataclass(slots=True)
class _Atom:
    start: int
    end: int
    before: int  # strength of the boundary just before this atom
    section: str
    size: int = 0


def chunk_text(text: str, *, max_chars: int = 1500, max_tokens: int | None = None,
               tokenizer: Any = None, overlap: int = 0) -> list[Chunk]:
    """Cut `text` into chunks of at most max_chars characters (or max_tokens tokens), with overlap.

    >>> [c.text for c in chunk_text("# A\\nOne. Two.\\n\\n# B\\n第一句。第二句！", max_chars=16)]
    ['# A\\nOne. Two.', '# B\\n第一句。第二句！']
    """
    if max_tokens is not None:
        if tokenizer is None:
            raise ConfigError("max_tokens needs a tokenizer")
        limit, count = max_tokens, token_counter(tokenizer)
    else:
        limit, count = max_chars, len
    if overlap >= limit:
        raise ConfigError(f"overlap ({overlap}) must be smaller than the chunk size ({limit})")
    atoms = _atoms(text, limit, count)
    if not atoms:
        return []
    prefix = [0]
    for atom in atoms:
        prefix.append(prefix[-1] + atom.size)

    def size(i: int, j: int) -> int:  # atoms i..j inclusive
        return atoms[j].end - atoms[i].start if count is len else prefix[j + 1] - prefix[i]

    chunks: list[Chunk] = []
    i, reached = 0, 0  # `reached`: every chunk must end past the previous one
    while i < len(atoms):
        while size(i, reached) > limit:  # overlap that leaves no room for new text is dropped
            i += 1
        j = reached
        while j + 1 < len(atoms) and size(i, j + 1) <= limit:
            j += 1
        cut = j + 1 if j + 1 == len(atoms) else _best_cut(atoms, i, reached, j, limit, size)
        if count is not len:  # token sizes of atoms only add up approximately: check the real text
            while cut - 1 > max(i, reached) and count(text[atoms[i].start:atoms[cut - 1].end]) > limit:
                cut -= 1
        chunks.append(_make_chunk(text, atoms, i, cut - 1, len(chunks)))
        if cut == len(atoms):
            break
        i, reached = _overlap_start(atoms, i, cut, overlap, size), cut
    return chunks


def _best_cut(atoms: list[_Atom], i: int, reached: int, j: int, limit: int, size: Callable[[int, int], int]) -> int:
    """Index of the atom the next chunk starts at: the strongest boundary in reach, latest on ties."""
    best, best_key = j + 1, (atoms[j + 1].before, j + 1)
    for k in range(reached + 1, j + 1):
        strength = atoms[k].before
        if strength >= WORD and size(i, k - 1) >= limit * _MIN_FILL[strength] and (strength, k) > best_key:
            best, best_key = k, (strength, k)
    return best


def _overlap_start(atoms: list[_Atom], i: int, cut: int, overlap: int, size: Callable[[int, int], int]) -> int:
    """First atom of the next chunk: whole atoms of the tail that fit in `overlap`, never across a heading."""
    start = cut
    while overlap and start - 1 > i and atoms[start].before != HEADING and size(start - 1, cut - 1) <= overlap:
        start -= 1
    return start


def _make_chunk(text: str, atoms: list[_Atom], i: int, j: int, index: int) -> Chunk:
    start, end = atoms[i].start, atoms[j].end
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    return Chunk(piece, start + lead, start + lead + len(piece), index, atoms[i].section)


def _atoms(text: str, limit: int, count: Callable[[str], int]) -> list[_Atom]:
    """Sentences (or shorter pieces when a sentence is over the limit), each with its boundary strength."""
    atoms: list[_Atom] = []
    section, position = "", 0
    for block_start, block_end, fenced in _blocks(text):
        before = PARAGRAPH if atoms else HEADING
        if fenced:
            atoms.extend(_code_atoms(text, block_start, block_end, before, section, limit, count))
            continue
        heading = _HEADING_LINE.match(text, block_start, block_end)
        if heading:
            section = heading.group(1).strip()
            atoms.append(_Atom(block_start, heading.end(), HEADING, section))
            block_start, before = heading.end(), AFTER_HEADING
            if not text[block_start:block_end].strip():
                continue
        position = block_start
        for match in _SENTENCE.finditer(text, block_start, block_end):
            if match.end() > position and text[position:match.end()].strip():
                atoms.extend(_split_long(text, position, match.end(), before, section, limit, count))
                before, position = SENTENCE, match.end()
        if text[position:block_end].strip():
            atoms.extend(_split_long(text, position, block_end, before, section, limit, count))
    return atoms


def _code_atoms(text: str, start: int, end: int, before: int, section: str, limit: int,
                count: Callable[[str], int]) -> Iterator[_Atom]:
    """A fenced block as one atom when it fits a chunk; else its lines (code has no sentences)."""
    size = count(text[start:end])
    if size <= limit:
        yield _Atom(start, end, before, section, size)
        return
    position = start
    for match in re.finditer(r"\n", text[start:end]):
        line_end = start + match.end()
        if text[position:line_end].strip():
            yield from _split_long(text, position, line_end, before, section, limit, count)
            before = SENTENCE
        position = line_end
    if text[position:end].strip():
        yield from _split_long(text, position, end, before, section, limit, count)


def _blocks(text: str) -> Iterator[tuple[int, int, bool]]:
    """Paragraphs (blank-line separated) and fenced code blocks; a heading line also starts a block."""
    position = 0
    for fence in _FENCE.finditer(text):
        yield from _paragraphs(text, position, fence.start())
        yield fence.start(), fence.end(), True
        position = fence.end()
    yield from _paragraphs(text, position, len(text))


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    position = start
    for match in _PARAGRAPH.finditer(text, start, end):
        for a, b in _split_headings(text, position, match.start()):
            yield a, b, False
        position = match.end()
    for a, b in _split_headings(text, position, end):
        yield a, b, False


def _split_headings(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    cuts = [m.start() + 1 for m in re.finditer(r"\n(?=#{1,6}[ \t])", text[start:end])]
    bounds = [start, *(start + c for c in cuts), end]
    for a, b in zip(bounds, bounds[1:], strict=False):
        if text[a:b].strip():
            yield a, b


def _split_long(text: str, start: int, end: int, before: int, section: str, limit: int,
                count: Callable[[str], int]) -> Iterator[_Atom]:
    """One atom, or several cut at spaces (or anywhere, for unspaced CJK) when it is over the limit."""
    while True:
        if count is len:
            probe_end, size = end, end - start
        else:  # tokenize a bounded window: a megabyte without punctuation must not be re-tokenized per piece
            probe = limit * _CHARS_PER_TOKEN
            while True:
                probe_end = min(end, start + probe)
                size = count(text[start:probe_end])
                if size > limit or probe_end == end:
                    break
                probe *= 4
        if size <= limit and probe_end == end:
            break
        # Characters per token varies; aim a little short and shrink until the piece fits.
        share = min(1.0, limit / max(size, 1)) * (1.0 if count is len else 0.9)
        cut = _word_cut(text, start, start + max(1, int((probe_end - start) * share)))
        while cut - start > 1 and count(text[start:cut]) > limit:
            cut = _word_cut(text, start, start + max(1, (cut - start) * 9 // 10))
        yield _Atom(start, cut, before, section, count(text[start:cut]))
        before, start = WORD, cut
    if text[start:end].strip():
        yield _Atom(start, end, before, section, size)


def _word_cut(text: str, start: int, limit_end: int) -> int:
    """The last space before limit_end when it is in the last third of the window, else limit_end."""
    space = text.rfind(" ", start + 1, limit_end)
    return space + 1 if space >= start + (limit_end - start) * 2 // 3 else limit_end


def token_counter(tokenizer: Any) -> Callable[[str], int]:
    """A text -> token count function from a tokenizer object (`.encode`) or a callable."""
    encode = getattr(tokenizer, "encode", tokenizer)

    def count(text: str) -> int:
        try:
            tokens = encode(text, add_special_tokens=False)
        except TypeError:  # not a Hugging Face tokenizer
            tokens = encode(text)
        return tokens if isinstance(tokens, int) else len(tokens)

    return count


def load_tokenizer(name: str) -> Any:
    """A Hugging Face tokenizer by name or folder, for token-sized chunks."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise ConfigError("counting tokens needs transformers: pip install 'datacraft[train]'") from None
    try:
        return AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load tokenizer {name!r}: {exc}") from None


def chunk_documents(docs: Iterable[Record], *, max_chars: int = 1500, max_tokens: int | None = None,
                    tokenizer: Any = None, overlap: int = 0) -> Iterator[Record]:
    """Documents in, chunk documents out: `{"id": "<doc id>#<n>", "text", "meta": {..., chunk info}}`."""
    for doc in docs:
        doc_id = str(doc.get("id", ""))
        chunks = chunk_text(doc.get("text") or "", max_chars=max_chars, max_tokens=max_tokens,
                            tokenizer=tokenizer, overlap=overlap)
        for chunk in chunks:
            meta = {**(doc.get("meta") or {}), "doc_id": doc_id, "chunk": chunk.index, "chunks": len(chunks),
                    "start": chunk.start, "end": chunk.end}
            if chunk.section:
                meta["section"] = chunk.section
            yield {"id": f"{doc_id}#{chunk.index}", "text": chunk.text, "meta": meta}
