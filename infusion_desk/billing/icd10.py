"""Search the full ICD-10-CM code set as the order form's diagnosis picker needs it.

    >>> [d.display for d in search("k50.9", limit=3)]
    ['K50.90', 'K50.911', 'K50.912']
    >>> [d.display for d in search("K5011")][:2]
    ['K50.111', 'K50.112']
    >>> first = search("crohn small intestine", limit=1)[0]
    >>> first.display, first.description
    ('K50.00', "Crohn's disease of small intestine without complications")
    >>> search("K50") == search("k50")
    True
    >>> describe("K5090")
    "Crohn's disease, unspecified, without complications"

Only billable codes (the leaves of the code set) are ever returned, in code order. A query
is a code prefix (with or without the dot), words that must each start a word of the
description (``"rheum arth"``, in any order, accents and apostrophes ignored), or both
(``"M05 knee"``). The index is built once, on the first search, from the code set shipped
with the installed ``simple_icd_10_cm`` release (about three seconds including the
package's own loading); later searches answer in a few milliseconds. Building is guarded
by a lock, so searches from several threads share one index.
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import re
import threading
import unicodedata
import warnings
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

__all__ = ["Diagnosis", "describe", "search", "warm_up"]

DEFAULT_LIMIT = 50

_CODE_TOKEN = re.compile(r"[A-Za-z][0-9][0-9A-Za-z]{0,5}\.?[0-9A-Za-z]{0,4}")
_CODE_SHAPE = re.compile(r"[A-Z][0-9A-Z]{2,6}")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    """Without the dot, as stored and as a claim carries it (``K5090``)."""
    description: str

    @property
    def display(self) -> str:
        """The code with its dot, as printed on orders (``K50.90``)."""
        return self.code if len(self.code) <= 3 else f"{self.code[:3]}.{self.code[3:]}"

    @property
    def label(self) -> str:
        return f"{self.display} {self.description}"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.casefold().replace("'", "").replace("\u2019", "")


def _load_package() -> ModuleType:
    # The package parses its XML when imported; its loader uses importlib.resources calls
    # deprecated since Python 3.11 (see billing/validation.py, which imports it the same way).
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"(read_text|open_text) is deprecated", category=DeprecationWarning
        )
        return importlib.import_module("simple_icd_10_cm")


class _Index:
    """Billable codes in code order, and for every description word the codes using it."""

    def __init__(self) -> None:
        icd = _load_package()
        codes: list[str] = sorted(
            code for code in icd.get_all_codes(False) if _CODE_SHAPE.fullmatch(code) and icd.is_leaf(code)
        )
        self.codes = codes
        self.descriptions: list[str] = [icd.get_description(code) for code in codes]
        self.position = {code: i for i, code in enumerate(codes)}
        postings: dict[str, list[int]] = {}
        # Each description's words as " w1 w2 ...": a word prefix q matches where " q" occurs.
        self.haystacks: list[str] = []
        for i, text in enumerate(self.descriptions):
            words = tuple(dict.fromkeys(_WORD.findall(_fold(text))))
            self.haystacks.append(" " + " ".join(words))
            for word in words:
                postings.setdefault(word, []).append(i)
        self.words = sorted(postings)
        self.postings = [postings[w] for w in self.words]
        # Running total of posting lengths, so the size of a prefix's match is two lookups.
        self.cumulative = [0, *itertools.accumulate(len(p) for p in self.postings)]

    def word_range(self, prefix: str) -> tuple[int, int]:
        lo = bisect_left(self.words, prefix)
        hi = bisect_left(self.words, prefix + "\uffff", lo)
        return lo, hi

    def code_range(self, prefix: str) -> tuple[int, int]:
        lo = bisect_left(self.codes, prefix)
        hi = bisect_left(self.codes, prefix + "\uffff", lo)
        return lo, hi

    def matches(self, word: str) -> int:
        """How many (word, code) pairs a word prefix matches: the cost of driving a search by it."""
        lo, hi = self.word_range(word)
        return self.cumulative[hi] - self.cumulative[lo]

    def candidates(self, word: str) -> Iterator[int]:
        """Codes with a description word starting with ``word``, in code order, each once."""
        lo, hi = self.word_range(word)
        merged = (
            heapq.merge(*self.postings[lo:hi]) if hi - lo > 1 else iter(self.postings[lo] if hi > lo else ())
        )
        last = -1
        for i in merged:
            if i != last:
                yield i
                last = i


_index: _Index | None = None
_lock = threading.Lock()


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _Index()
    return _index


def warm_up() -> None:
    """Build the index now (on a worker thread at start-up) rather than on the first search."""
    _get_index()


def _split(query: str) -> tuple[list[str], list[str]]:
    codes: list[str] = []
    words: list[str] = []
    for token in query.split():
        if _CODE_TOKEN.fullmatch(token):
            codes.append(token.upper().replace(".", ""))
        else:
            words.extend(_WORD.findall(_fold(token)))
    return codes, words


def search(query: str, limit: int = DEFAULT_LIMIT) -> tuple[Diagnosis, ...]:
    """Billable codes matching ``query``: code prefixes and/or description word prefixes."""
    code_prefixes, words = _split(query)
    if (not code_prefixes and not words) or limit <= 0:
        return ()
    found = _search(_get_index(), code_prefixes, words, limit)
    if not found and code_prefixes:
        # "b12" starts no code but does start a word ("vitamin B12 deficiency").
        found = _search(_get_index(), [], words + [c.lower() for c in code_prefixes], limit)
    return found


def _search(index: _Index, code_prefixes: list[str], words: list[str], limit: int) -> tuple[Diagnosis, ...]:
    if len(code_prefixes) > 1:
        return ()  # one code cannot start with two different prefixes
    words = list(words)
    if code_prefixes:
        lo, hi = index.code_range(code_prefixes[0])
        pool: Iterator[int] = iter(range(lo, hi))
    else:
        # Drive the search by the most selective word; check the others per candidate.
        words.sort(key=index.matches)
        pool = index.candidates(words.pop(0))
    needles = [" " + w for w in words]
    found: list[Diagnosis] = []
    for i in pool:
        hay = index.haystacks[i]
        if all(n in hay for n in needles):
            found.append(Diagnosis(index.codes[i], index.descriptions[i]))
            if len(found) >= limit:
                break
    return tuple(found)


def describe(code: str) -> str | None:
    """The description of a billable code (with or without its dot), or None if it is not one."""
    index = _get_index()
    position = index.position.get(code.strip().upper().replace(".", ""))
    return None if position is None else index.descriptions[position]
