"""The password rules every new password must meet, as pure functions returning findings.

    check_password("Infusion-Suite-42", username="nell", display_name="Nell Okafor")  # -> ()
    check_password("password123456", username="nell")
    # -> (Finding(code="PASSWORD_COMMON", message="Password: this is one of the first passwords ...
    #    anyone would try. Choose something less obvious.", subject="password"),)

A password is accepted when it

* has at least :data:`MIN_LENGTH` (12) characters, and at most :data:`MAX_LENGTH`;
* is not, and does not contain, the user name or the display name;
* is not an obvious password from ``resources/common_passwords.txt``, even with digits or
  symbols added at either end (``Password123456!``);
* mixes at least 3 of the 4 kinds of character (lower case, upper case, digits, others), or is a
  passphrase of :data:`PASSPHRASE_LENGTH` (16) characters or more, where length alone is enough.

Each finding names what to change, so a form can show it under the password field. The
rules take no session and do no I/O beyond reading the list once.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

from infusion_desk.billing.findings import Finding, error

MIN_LENGTH = 12
PASSPHRASE_LENGTH = 16
MAX_LENGTH = 128
"""Argon2 takes any length; the cap only keeps a pasted document out of the hasher."""
MIN_CLASSES = 3
SUBJECT = "password"

_CLASS_NAMES = ("lower-case letters", "upper-case letters", "digits", "symbols or spaces")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of obvious passwords, lower-cased."""
    text = resources.files("infusion_desk.resources").joinpath("common_passwords.txt").read_text(
        encoding="utf-8"
    )
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def character_classes(password: str) -> int:
    """How many of the four kinds of character ``password`` uses."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def _squashed(text: str) -> str:
    """Lower case, letters and digits only: ``"Nell O'Kafor"`` -> ``"nellokafor"``."""
    return "".join(c for c in text.lower() if c.isalnum())


_EDGES = string.digits + string.punctuation + " "


def _is_common(password: str) -> bool:
    lowered = password.lower()
    listed = common_passwords()
    candidates = {lowered, lowered.strip(_EDGES), lowered.rstrip(_EDGES), lowered.lstrip(_EDGES)}
    candidates |= {_squashed(candidate) for candidate in set(candidates)}
    return any(candidate in listed for candidate in candidates if candidate)


def _names_in(password: str, username: str, display_name: str) -> bool:
    squashed = _squashed(password)
    names = {_squashed(username), _squashed(display_name)}
    return any(len(name) >= 3 and name in squashed for name in names)


def check_password(password: str, *, username: str, display_name: str = "") -> tuple[Finding, ...]:
    """The findings against ``password`` for this user; empty when it may be used."""
    findings: list[Finding] = []
    if len(password) < MIN_LENGTH:
        findings.append(
            error(
                "PASSWORD_SHORT",
                f"Password: use at least {MIN_LENGTH} characters (this one has {len(password)}).",
                SUBJECT,
            )
        )
    if len(password) > MAX_LENGTH:
        findings.append(
            error("PASSWORD_LONG", f"Password: use at most {MAX_LENGTH} characters.", SUBJECT)
        )
    if _names_in(password, username, display_name):
        findings.append(
            error(
                "PASSWORD_NAME",
                "Password: do not use your user name or your name in it.",
                SUBJECT,
            )
        )
    if _is_common(password):
        findings.append(
            error(
                "PASSWORD_COMMON",
                "Password: this is one of the first passwords anyone would try. "
                "Choose something less obvious.",
                SUBJECT,
            )
        )
    if len(password) < PASSPHRASE_LENGTH and character_classes(password) < MIN_CLASSES:
        findings.append(
            error(
                "PASSWORD_MIX",
                f"Password: mix at least {MIN_CLASSES} of {', '.join(_CLASS_NAMES[:-1])} and "
                f"{_CLASS_NAMES[-1]}, or use a passphrase of {PASSPHRASE_LENGTH} characters or more.",
                SUBJECT,
            )
        )
    return tuple(findings)


def password_rules_text() -> str:
    """The rules in one sentence, for a form's hint."""
    return (
        f"At least {MIN_LENGTH} characters with {MIN_CLASSES} of: lower case, upper case, digits, "
        f"symbols — or a passphrase of {PASSPHRASE_LENGTH}+ characters. Not your name or an "
        "obvious password."
    )
