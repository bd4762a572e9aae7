"""Control numbers count up by one per name, survive a restart, and roll back with a failed export."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from infusion_desk.models import ControlNumber
from infusion_desk.services.app import Services
from infusion_desk.services.control_numbers import (
    GROUP,
    INTERCHANGE,
    next_control_number,
    reserve_control_numbers,
)


def test_each_name_counts_from_one(services: Services) -> None:
    with services.db.session() as session:
        assert [next_control_number(session, INTERCHANGE) for _ in range(3)] == [1, 2, 3]
        assert next_control_number(session, GROUP) == 1
    with services.db.session() as session:
        assert next_control_number(session, INTERCHANGE) == 4


def test_a_block_of_numbers_is_reserved_in_one_step_and_the_counter_moves_past_it(services: Services) -> None:
    with services.db.session() as session:
        assert list(reserve_control_numbers(session, "claim", 3)) == [1, 2, 3]
        assert list(reserve_control_numbers(session, "claim", 1)) == [4]
        assert next_control_number(session, "claim") == 5
        with pytest.raises(ValueError):
            reserve_control_numbers(session, "claim", 0)


def test_a_rolled_back_transaction_gives_its_number_back(services: Services) -> None:
    with services.db.session() as session:
        next_control_number(session, INTERCHANGE)
    with pytest.raises(RuntimeError), services.db.session() as session:
        assert next_control_number(session, INTERCHANGE) == 2
        raise RuntimeError("the export failed")
    with services.db.session() as session:
        assert next_control_number(session, INTERCHANGE) == 2
        assert session.scalar(sa.select(ControlNumber.last_value).where(ControlNumber.name == INTERCHANGE)) == 2


def test_concurrent_workstations_never_share_a_number(services: Services) -> None:
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take() -> None:
        try:
            for _ in range(5):
                with services.db.session() as session:
                    value = next_control_number(session, "concurrency")
                with lock:
                    got.append(value)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(got) == list(range(1, 21))


def test_bad_names_are_refused(services: Services) -> None:
    with services.db.session() as session, pytest.raises(ValueError, match="1 to 40"):
        next_control_number(session, "")
