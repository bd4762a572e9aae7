"""Which way a claim may move: draft, ready, batched, submitted, accepted or rejected, adjudicated, closed.

    >>> can_move(S.READY, S.BATCHED)
    True
    >>> can_move(S.DRAFT, S.BATCHED)
    False
    >>> transition_problem(S.PAID, S.DRAFT)
    'A paid claim cannot go back to draft; correct it with a replacement claim instead.'

A claim is built as a draft; a clean scrub makes it ready; an export puts it in a batch;
it is submitted only when the user confirms the upload or the clearinghouse acknowledges
the file, never merely because a file was written. The 277CA accepts or rejects it; a
rejected claim goes back to draft to be fixed and sent again. The payer's remittance marks
it paid, partially paid or denied; a denial may be appealed; anything settled is closed.
"""

from __future__ import annotations

from enum import StrEnum


class S(StrEnum):
    """The claim states; ``models.enums.ClaimStatus`` has the same values (billing never imports models)."""

    DRAFT = "draft"
    READY = "ready"
    BATCHED = "batched"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    APPEALED = "appealed"
    CLOSED = "closed"



TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.READY, S.CLOSED}),
    S.READY: frozenset({S.DRAFT, S.BATCHED, S.CLOSED}),
    S.BATCHED: frozenset({S.READY, S.SUBMITTED, S.ACCEPTED, S.REJECTED}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.PAID, S.PARTIALLY_PAID, S.DENIED}),
    S.ACCEPTED: frozenset({S.REJECTED, S.PAID, S.PARTIALLY_PAID, S.DENIED, S.CLOSED}),
    S.REJECTED: frozenset({S.DRAFT, S.READY, S.CLOSED}),
    S.PAID: frozenset({S.ACCEPTED, S.PARTIALLY_PAID, S.DENIED, S.CLOSED}),
    S.PARTIALLY_PAID: frozenset({S.ACCEPTED, S.PAID, S.DENIED, S.APPEALED, S.CLOSED}),
    S.DENIED: frozenset({S.ACCEPTED, S.PAID, S.PARTIALLY_PAID, S.APPEALED, S.CLOSED}),
    S.APPEALED: frozenset({S.ACCEPTED, S.PAID, S.PARTIALLY_PAID, S.DENIED, S.CLOSED}),
    S.CLOSED: frozenset(),
}
"""Allowed moves. Adjudicated claims move among themselves because a payer may reverse and re-pay;
a reversal with no corrected payment puts the claim back to accepted, waiting on the payer."""

EDITABLE = frozenset({S.DRAFT, S.READY, S.REJECTED})
"""States whose lines and data may still be rebuilt from the visit."""

LIVE = frozenset(set(S) - {S.REJECTED, S.CLOSED})
"""Claims that count as billed (for the duplicate check and for 'this visit already has a claim')."""

SENT = frozenset({S.SUBMITTED, S.ACCEPTED, S.PAID, S.PARTIALLY_PAID, S.DENIED, S.APPEALED})
"""Claims a payer has: only these can be replaced or voided."""


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def _label(status: str) -> str:
    return str(status).replace("_", " ")


def transition_problem(current: str, target: str) -> str | None:
    """Why a claim cannot move from ``current`` to ``target``, in words a biller reads; None when it can."""
    if can_move(current, target):
        return None
    if current is S.CLOSED:
        return "The claim is closed; nothing more can happen to it."
    article = "An" if _label(current)[0] in "aeiou" else "A"
    if target in EDITABLE and current not in EDITABLE:
        return (
            f"{article} {_label(current)} claim cannot go back to {_label(target)}; "
            "correct it with a replacement claim instead."
        )
    return f"{article} {_label(current)} claim cannot become {_label(target)}."
