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
(``"M05 knee"``). The index is built once, on the first search (about a second); later
searches answer in a few milliseconds. Building is guarded by a lock, so searches from
several threads share one index.

The code set itself is ``resources/icd10cm.tsv.gz``, the tabular list of the
``simple-icd-10-cm`` release it was written from (``tools/make_icd10_table.py``; a test
keeps the two equal). It loads in about a quarter of a second and 40 MB, where the
package's own XML takes seconds and some 180 MB:

    >>> codes = code_set()
    >>> codes.is_billable("K5090"), codes.is_billable("K509"), codes.is_valid("K509")
    (True, False, True)
    >>> codes.billable_under("K509", 3)
    ('K5090', 'K50911', 'K50912')
"""

from __future__ import annotations

import gzip
import heapq
import itertools
import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

__all__ = ["CodeSet", "Diagnosis", "code_set", "describe", "search", "warm_up"]

TABLE = "icd10cm.tsv.gz"

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


class CodeSet:
    """Every ICD-10-CM category and code, whether it is billable, and its description."""

    def __init__(self, rows: Iterable[tuple[str, bool, str]]) -> None:
        self._billable: dict[str, bool] = {}
        self._descriptions: dict[str, str] = {}
        for code, billable, description in rows:
            self._billable[code] = billable
            self._descriptions[code] = description
        self.codes: tuple[str, ...] = tuple(sorted(self._billable))
        """Every code, categories too, in code order (without dots)."""

    def is_valid(self, code: str) -> bool:
        """Whether ``code`` (without its dot) is an ICD-10-CM category or code."""
        return code in self._billable

    def is_billable(self, code: str) -> bool:
        """Whether ``code`` (without its dot) is a billable code, a leaf of the tabular list."""
        return self._billable.get(code, False)

    def description(self, code: str) -> str | None:
        return self._descriptions.get(code)

    def billable_under(self, category: str, limit: int) -> tuple[str, ...]:
        """The first ``limit`` billable codes under ``category``, in code order."""
        found: list[str] = []
        for code in itertools.islice(self.codes, bisect_left(self.codes, category), None):
            if not code.startswith(category) or len(found) >= limit:
                break
            if code != category and self._billable[code]:
                found.append(code)
        return tuple(found)


_code_set: CodeSet | None = None
_code_set_lock = threading.Lock()


def code_set() -> CodeSet:
    """The shipped ICD-10-CM code set, read once per process (thread-safe)."""
    global _code_set
    if _code_set is None:
        with _code_set_lock:
            if _code_set is None:
                _code_set = CodeSet(_read_table())
    return _code_set


def _read_table() -> Iterator[tuple[str, bool, str]]:
    with (
        resources.files("infusion_desk.resources").joinpath(TABLE).open("rb") as raw,
        gzip.open(raw, "rt", encoding="utf-8") as lines,
    ):
        for line in lines:
            if not line.startswith("#"):
                code, billable, description = line.rstrip("\n").split("\t", 2)
                yield code, billable == "1", description


class _Index:
    """Billable codes in code order, and for every description word the codes using it."""

    def __init__(self) -> None:
        icd = code_set()
        codes = [code for code in icd.codes if icd.is_billable(code)]
        self.codes = codes
        self.descriptions: list[str] = [icd.description(code) or "" for code in codes]
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
