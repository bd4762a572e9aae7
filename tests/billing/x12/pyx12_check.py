"""pyx12's verdict on an X12 text: the list of its complaints, empty when the file is valid.

Used by the 837P tests (ours and the claim service's export) with pyx12's own installed maps;
see /work/shared/domain/x12.md §6.1. ``x12n_document`` reports every error on the ``pyx12``
logger (``Line:24 ELE:7 - (AD) is not a valid code ...``) and returns ``True`` only when it
recorded none, so both are collected: a failure without a message is reported too, and an
engine exception (unknown GS08, a crash on a malformed composite) becomes one complaint
rather than an error in the test.
"""

from __future__ import annotations

import io
import logging

import pyx12.errors
import pyx12.params
import pyx12.x12n_document


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(text: str) -> list[str]:
    """pyx12's complaints about ``text`` (an empty list when it found nothing wrong)."""
    handler = _Collect()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    previous = logger.propagate
    logger.propagate = False
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=io.StringIO(),
            fd_html=None, fd_xmldoc=None, fd_json=None,
        )
    except pyx12.errors.EngineError as exc:
        return [f"pyx12 engine error: {exc}"]
    except Exception as exc:  # noqa: BLE001 - pyx12 crashes on some malformed input (x12.md §6.1)
        return [f"pyx12 crashed: {type(exc).__name__}: {exc}"]
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous
    if ok:
        return []
    return handler.messages or ["pyx12 reported a failure without a message"]
