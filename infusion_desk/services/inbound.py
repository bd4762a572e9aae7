"""Reading a file the clearinghouse or a payer sent (999, 277CA, 835) into text, with plain errors."""

from __future__ import annotations

from pathlib import Path

from infusion_desk.billing.findings import error
from infusion_desk.services.errors import ValidationFailed


def read_inbound_file(path: Path, max_bytes: int, what: str) -> str:
    """The file's text; a missing, unreadable or implausibly large file is refused in words.

    X12 is ASCII, but files saved by portals sometimes carry a UTF-8 byte-order mark or
    Latin-1 names; both are read rather than refused (the X12 reader judges the content).
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ValidationFailed(
                [
                    error(
                        "TOO_LARGE",
                        f"{path.name} is {size // 1_048_576} MB; {what} is never that big. "
                        "Check you chose the right file.",
                        "file",
                    )
                ]
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed([error("UNREADABLE", f"Cannot read {path}: {exc.strerror}.", "file")]) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
