"""The claim lifecycle: which moves a biller can make, and the words used when one is refused."""

from __future__ import annotations

import pytest

from infusion_desk.billing.claim_lifecycle import (
    EDITABLE,
    LIVE,
    SENT,
    TRANSITIONS,
    S,
    can_move,
    transition_problem,
)
from infusion_desk.models.enums import ClaimStatus


def test_the_billing_states_are_the_stored_states() -> None:
    assert {s.value for s in S} == {s.value for s in ClaimStatus}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.DRAFT, S.READY),  # a clean scrub
        (S.READY, S.BATCHED),  # exported in a batch
        (S.BATCHED, S.SUBMITTED),  # upload confirmed or 999 accepted
        (S.BATCHED, S.REJECTED),  # 999 rejected the transaction set
        (S.SUBMITTED, S.ACCEPTED),  # 277CA accepted
        (S.ACCEPTED, S.REJECTED),  # 277CA rejected after an earlier acceptance of the file
        (S.REJECTED, S.DRAFT),  # back to the work queue to be fixed
        (S.ACCEPTED, S.PAID),
        (S.DENIED, S.APPEALED),
        (S.PAID, S.CLOSED),
    ],
)
def test_the_normal_path_is_allowed(current: S, target: S) -> None:
    assert can_move(current, target)
    assert transition_problem(current, target) is None


@pytest.mark.parametrize(
    ("current", "target", "words"),
    [
        (S.DRAFT, S.BATCHED, "A draft claim cannot become batched."),
        (S.READY, S.SUBMITTED, "A ready claim cannot become submitted."),
        (
            S.PAID,
            S.DRAFT,
            "A paid claim cannot go back to draft; correct it with a replacement claim instead.",
        ),
        (
            S.ACCEPTED,
            S.READY,
            "An accepted claim cannot go back to ready; correct it with a replacement claim",
        ),
        (S.CLOSED, S.PAID, "The claim is closed; nothing more can happen to it."),
    ],
)
def test_refused_moves_say_why(current: S, target: S, words: str) -> None:
    assert not can_move(current, target)
    problem = transition_problem(current, target)
    assert problem is not None and problem.startswith(words)


def test_every_state_has_a_row_and_only_known_targets() -> None:
    assert set(TRANSITIONS) == set(S)
    assert all(targets <= set(S) for targets in TRANSITIONS.values())


def test_groups() -> None:
    assert S.REJECTED not in LIVE and S.CLOSED not in LIVE and S.BATCHED in LIVE
    assert EDITABLE == {S.DRAFT, S.READY, S.REJECTED}
    assert S.READY not in SENT and S.ACCEPTED in SENT
