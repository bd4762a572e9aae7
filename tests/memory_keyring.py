"""In-memory keyrings for tests: the developer's own keyring is never touched."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import keyring.errors
from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps its entries in a dict."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("No such password") from None


class LockedKeyring(MemoryKeyring):
    """As when the user dismissed the prompt to unlock their login keyring."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("The collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("The collection is locked")


def installed(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    """Use ``backend`` until the generator is closed, then the keyring that was in use before."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
