"""Write ``resources/icd10cm.tsv.gz``, the ICD-10-CM code set the application reads, from simple_icd_10_cm.

    python -m tools.make_icd10_table

Run it after upgrading ``simple-icd-10-cm`` to a new fiscal year's release; the test
``tests/billing/test_icd10.py`` fails while the shipped table and the installed release
disagree. The application never imports the package itself: parsing its XML takes about
1.7 seconds and 180 MB, while the table loads in a fraction of that.

Each line is ``code<TAB>billable<TAB>description``: the code without its dot, ``1`` for a
billable code (a leaf of the tabular list) and ``0`` for a category, in the package's order
(the tabular list's). Chapters and blocks are left out; they never appear on a claim.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.metadata
import re
import warnings
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "resources" / "icd10cm.tsv.gz"
CODE_SHAPE = re.compile(r"[A-Z][0-9A-Z]{2,6}")


def rows() -> list[tuple[str, bool, str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        icd = importlib.import_module("simple_icd_10_cm")
    # a block of a single category has the category's name ("B10"): listed once
    codes = dict.fromkeys(code for code in icd.get_all_codes(False) if CODE_SHAPE.fullmatch(code))
    return [(code, bool(icd.is_leaf(code)), icd.get_description(code)) for code in codes]


def main() -> None:
    version = importlib.metadata.version("simple-icd-10-cm")
    body = "".join(f"{code}\t{int(billable)}\t{text}\n" for code, billable, text in rows())
    header = f"# ICD-10-CM tabular list from simple-icd-10-cm {version} (tools/make_icd10_table.py)\n"
    # mtime=0: the same release always gives the same bytes, so git sees no change
    TABLE.write_bytes(gzip.compress((header + body).encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {TABLE} ({TABLE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
