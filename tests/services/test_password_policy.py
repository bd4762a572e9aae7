"""The password rules: each refusal names what to change; good passwords and passphrases pass."""

from __future__ import annotations

import pytest

from infusion_desk.services.password_policy import (
    MIN_LENGTH,
    check_password,
    common_passwords,
)


def codes(password: str, username: str = "nell", display_name: str = "Nell Okafor") -> set[str]:
    return {f.code for f in check_password(password, username=username, display_name=display_name)}


@pytest.mark.parametrize(
    "password",
    [
        "Quiet-Harbor-77",  # 15 characters, all four kinds
        "lantern maple 4 river",  # a passphrase: lower case, digits and spaces, 21 characters
        "violetcanyonsoup",  # 16 letters of one kind: long enough as a passphrase
        "Tr4vel1ng-Ch41r",
    ],
)
def test_good_passwords_and_passphrases_pass(password: str) -> None:
    assert check_password(password, username="nell", display_name="Nell Okafor") == ()


def test_a_short_password_says_how_long_it_must_be() -> None:
    (finding,) = check_password("Ab1!xyz", username="nell")
    assert finding.code == "PASSWORD_SHORT" and finding.subject == "password"
    assert finding.message == f"Password: use at least {MIN_LENGTH} characters (this one has 7)."


def test_too_few_kinds_of_character_asks_for_a_mix_or_a_passphrase() -> None:
    (finding,) = check_password("lanternmaple", username="nell")  # 12 lower-case letters
    assert finding.code == "PASSWORD_MIX"
    assert "at least 3 of" in finding.message and "passphrase of 16 characters" in finding.message
    assert codes("Lanternmaple") == {"PASSWORD_MIX"}  # two kinds
    assert codes("Lanternmaple7") == set()  # three kinds


@pytest.mark.parametrize(
    ("password", "username", "display_name"),
    [
        ("nell-Password-9", "nell", "Nell Okafor"),  # contains the user name
        ("NELL.okafor#2026", "nell", "Nell Okafor"),  # the display name, squashed, in any case
        ("x9!Okafor-Nell-Z", "nokafor", "Okafor Nell"),
    ],
)
def test_the_user_name_or_display_name_is_refused(password: str, username: str, display_name: str) -> None:
    assert "PASSWORD_NAME" in codes(password, username, display_name)


@pytest.mark.parametrize(
    "password",
    [
        "password123456",
        "Password123456!",  # the listed word with digits and a symbol added
        "InfusionDesk2026!",
        "123456789012",
        "qwertyuiopasdf",
        "1qaz2wsx3edc",
        "!@#$Welcome!@#$",
    ],
)
def test_obvious_passwords_are_refused_even_dressed_up(password: str) -> None:
    assert "PASSWORD_COMMON" in codes(password)
    assert any("less obvious" in f.message for f in check_password(password, username="nell"))


def test_the_shipped_list_is_lower_case_and_has_the_obvious_ones() -> None:
    listed = common_passwords()
    assert {"password123456", "infusiondesk", "123456789012", "qwertyuiop"} <= listed
    assert all(word == word.lower() and not word.startswith("#") for word in listed)


def test_every_problem_is_reported_at_once() -> None:
    assert codes("nell1") == {"PASSWORD_SHORT", "PASSWORD_NAME", "PASSWORD_MIX"}
    assert codes("x" * 129) == {"PASSWORD_LONG"}
