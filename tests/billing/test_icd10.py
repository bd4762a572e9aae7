"""ICD-10-CM search: code prefixes, description words, billable codes only (its speed is in bench/frontdesk.py)."""

from __future__ import annotations

import re
import threading
import warnings

import pytest

from infusion_desk.billing import icd10
from infusion_desk.billing.validation import check_icd10


@pytest.mark.parametrize(
    ("query", "first"),
    [
        # ICD-10-CM FY2026 tabular list: K50.90 is the first billable code under K50.9
        ("K50.9", "K50.90"),
        ("k509", "K50.90"),
        # M05.0 Felty's syndrome; its first leaf is M05.00 (unspecified site)
        ("M05.0", "M05.00"),
        # words in any order, prefixes of description words: K50.00 Crohn's disease of small intestine ...
        ("small crohn", "K50.00"),
        ("crohn's", "K50.00"),
        # accents ignored: H81.01 Ménière's disease, right ear
        ("meniere right", "H81.01"),
        # a code and a word: M05.061 Felty's syndrome, right knee
        ("M05 knee", "M05.061"),
        # 'b12' starts no code, but starts a word: D51.0 Vitamin B12 deficiency anemia due to intrinsic factor
        ("b12", "D51.0"),
        # E11.9 is itself billable
        ("E11.9", "E11.9"),
    ],
)
def test_search_finds(query: str, first: str) -> None:
    results = icd10.search(query)
    assert results, query
    assert results[0].display == first


@pytest.mark.parametrize("query", ["K50", "fracture", "diabetes", "c", "left right", "R"])
def test_results_are_billable_codes_with_descriptions(query: str) -> None:
    results = icd10.search(query, limit=50)
    assert 0 < len(results) <= 50
    for diagnosis in results:
        assert check_icd10(diagnosis.code) == ()  # the same rule an order is checked with
        assert diagnosis.description


@pytest.mark.parametrize("query", ["", "   ", "zzzzqqq", "K50 K51", "Q99.99999"])
def test_no_results(query: str) -> None:
    assert icd10.search(query) == ()


def test_categories_are_never_offered() -> None:
    codes = {d.code for d in icd10.search("K50", limit=100)}
    assert "K509" not in codes and "K50" not in codes  # categories (validation.py says "not billable")
    assert "K5090" in codes


def test_describe() -> None:
    assert icd10.describe("K50.90") == "Crohn's disease, unspecified, without complications"
    assert icd10.describe("K50") is None


def test_threads_share_one_index() -> None:
    results: list[tuple[icd10.Diagnosis, ...]] = []
    threads = [threading.Thread(target=lambda: results.append(icd10.search("crohn"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r == results[0] for r in results)


def test_the_shipped_table_is_the_installed_simple_icd_10_cm_release() -> None:
    # The package is the source (tools/make_icd10_table.py writes the table from it); after an
    # upgrade to a new fiscal year's release this fails until the table is written again.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd
    shipped = icd10.code_set()
    expected = {
        code for code in icd.get_all_codes(False) if re.fullmatch(r"[A-Z][0-9A-Z]{2,6}", code)
    }
    assert set(shipped.codes) == expected
    for code in expected:
        assert shipped.is_billable(code) == icd.is_leaf(code), code
        assert shipped.description(code) == icd.get_description(code), code


def test_a_category_lists_its_first_billable_codes_in_code_order() -> None:
    codes = icd10.code_set()
    # ICD-10-CM FY2026: K50.9 Crohn's disease, unspecified: K50.90, then K50.91- (a category) and its codes
    assert codes.billable_under("K509", 3) == ("K5090", "K50911", "K50912")
    assert codes.billable_under("K5090", 3) == ()  # a billable code has nothing under it
    assert codes.billable_under("ZZZ", 3) == ()
    assert codes.is_valid("K50") and not codes.is_billable("K50")
    assert not codes.is_valid("K50.90")  # codes are kept without their dot
