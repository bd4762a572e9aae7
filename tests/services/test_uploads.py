"""Uploading batch files over SFTP, against a real (local, test) SFTP server.

Each test starts its own server on 127.0.0.1 over a temporary folder (tests/services/sftp_server.py);
nothing here touches the network, the user's known hosts or keyring.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from infusion_desk.cli import default_database_path
from infusion_desk.services.clearinghouse import ClearinghouseSettings
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.uploads import (
    SftpTarget,
    UploadFailed,
    UploadProblem,
    default_known_hosts,
    forget_host_key,
    host_key_name,
    target_for,
    upload_files,
)
from tests.services.sftp_server import PASSWORD, USERNAME, SftpTestServer

PASSPHRASE = "fictional key passphrase"
FIRST = b"ISA*00*          *00*          *ZZ*FICTIONALCLINIC*ZZ*TESTCH~" + b"CLM*TEST0001*100~" * 10 + b"IEA*1*000000001~"
# Large enough to take many SFTP write packets.
SECOND = b"ISA*00*          *00*          *ZZ*FICTIONALCLINIC*ZZ*TESTCH~" + bytes(range(256)) * 800


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


@pytest.fixture
def server(tmp_path: Path, host_key: paramiko.PKey) -> Iterator[SftpTestServer]:
    root = tmp_path / "server"
    (root / "inbound").mkdir(parents=True)
    with SftpTestServer(root, host_key) as running:
        yield running


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    return tmp_path / "workstation" / "known_hosts"


@pytest.fixture
def target(server: SftpTestServer) -> SftpTarget:
    return SftpTarget("127.0.0.1", server.port, USERNAME, "/inbound")


@pytest.fixture
def batch_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "export"
    folder.mkdir()
    first, second = folder / "TESTCH_000000001.837", folder / "TESTCH_000000002.837"
    first.write_bytes(FIRST)
    second.write_bytes(SECOND)
    return [first, second]


def trust(server: SftpTestServer, known_hosts: Path) -> None:
    """The workstation already knows this server's key (as after a first, trusted upload)."""
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    key = server.host_key
    known_hosts.write_text(f"[127.0.0.1]:{server.port} {key.get_name()} {key.get_base64()}\n")


def failure(caught: pytest.ExceptionInfo[UploadFailed]) -> UploadFailed:
    return caught.value


def test_two_files_arrive_whole_under_their_names(server: SftpTestServer, target: SftpTarget, known_hosts: Path,
                                                  batch_files: list[Path]) -> None:
    trust(server, known_hosts)
    steps: list[tuple[int, int]] = []

    result = upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts, progress=lambda *a: steps.append(a))

    assert result.remote_paths == ("/inbound/TESTCH_000000001.837", "/inbound/TESTCH_000000002.837")
    assert result.already_there == () and not result.cancelled
    assert server.files() == {"TESTCH_000000001.837": FIRST, "TESTCH_000000002.837": SECOND}  # no .part left
    assert steps == [(1, 2), (2, 2)]
    assert "2 file(s) uploaded." in result.text()


def test_a_wrong_password_is_refused_and_not_worth_retrying(server: SftpTestServer, target: SftpTarget,
                                                            known_hosts: Path, batch_files: list[Path]) -> None:
    trust(server, known_hosts)
    with pytest.raises(UploadFailed) as caught:
        upload_files(target, "wrong-fictional-password", batch_files, known_hosts=known_hosts)
    assert failure(caught).problem is UploadProblem.AUTHENTICATION
    assert "authentication refused" in str(caught.value)
    assert USERNAME in str(caught.value) and "wrong-fictional-password" not in str(caught.value)
    assert not failure(caught).retryable
    assert server.files() == {}


def test_no_password_is_asked_for_before_connecting(target: SftpTarget, known_hosts: Path,
                                                     batch_files: list[Path], server: SftpTestServer) -> None:
    with pytest.raises(UploadFailed, match="Enter the SFTP password"):
        upload_files(target, None, batch_files, known_hosts=known_hosts)
    assert server.connections == 0


def test_a_server_that_is_not_there_is_worth_retrying(known_hosts: Path, batch_files: list[Path]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(UploadFailed) as caught:
        upload_files(SftpTarget("127.0.0.1", port, USERNAME, "/inbound"), PASSWORD, batch_files,
                     known_hosts=known_hosts, timeout=2)
    assert failure(caught).problem is UploadProblem.UNREACHABLE
    assert failure(caught).retryable
    assert f"Could not connect to the clearinghouse's SFTP server 127.0.0.1:{port}" in str(caught.value)
    assert "try again" in str(caught.value)


def test_an_unknown_server_is_refused_with_its_fingerprint_then_trusted_and_remembered(
    server: SftpTestServer, target: SftpTarget, known_hosts: Path, batch_files: list[Path], host_key: paramiko.PKey,
) -> None:
    with pytest.raises(UploadFailed) as caught:
        upload_files(target, PASSWORD, batch_files[:1], known_hosts=known_hosts)
    assert failure(caught).problem is UploadProblem.UNKNOWN_HOST
    assert failure(caught).fingerprint == host_key.fingerprint
    assert host_key.fingerprint in str(caught.value) and host_key.fingerprint.startswith("SHA256:")
    assert server.passwords_received == 0  # the password never went to a server not yet trusted
    assert server.files() == {} and not known_hosts.exists()

    upload_files(target, PASSWORD, batch_files[:1], known_hosts=known_hosts, trust_new_host=True)
    assert f"[127.0.0.1]:{server.port} {host_key.get_name()} {host_key.get_base64()}" in known_hosts.read_text()

    upload_files(target, PASSWORD, batch_files[1:], known_hosts=known_hosts)  # remembered: no question now
    assert set(server.files()) == {p.name for p in batch_files}


def test_a_changed_server_key_is_always_refused(server: SftpTestServer, target: SftpTarget, known_hosts: Path,
                                                batch_files: list[Path]) -> None:
    trust(server, known_hosts)
    saved = known_hosts.read_text()
    server.host_key = impostor = paramiko.ECDSAKey.generate()

    with pytest.raises(UploadFailed) as caught:
        upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts, trust_new_host=True)

    assert failure(caught).problem is UploadProblem.HOST_KEY_CHANGED
    assert failure(caught).fingerprint == impostor.fingerprint
    assert "intercepting" in str(caught.value) and not failure(caught).retryable
    assert server.passwords_received == 0 and server.files() == {}
    assert known_hosts.read_text() == saved


def test_a_server_with_a_newer_kind_of_key_too_is_known_by_the_kind_on_file(
    server: SftpTestServer, target: SftpTarget, known_hosts: Path, batch_files: list[Path],
) -> None:
    trust(server, known_hosts)  # its ECDSA key, saved on an earlier upload
    private = ed25519.Ed25519PrivateKey.generate()
    openssh = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                    serialization.NoEncryption())
    # Ed25519 is what an SSH client asks for first when it knows nothing of the server.
    server.extra_host_keys.append(paramiko.Ed25519Key(file_obj=io.StringIO(openssh.decode())))

    upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts)

    assert set(server.files()) == {p.name for p in batch_files}


def test_a_changed_key_is_accepted_only_after_the_old_one_is_forgotten(
    server: SftpTestServer, target: SftpTarget, known_hosts: Path, batch_files: list[Path],
) -> None:
    trust(server, known_hosts)
    other = paramiko.ECDSAKey.generate()
    known_hosts.write_text(f"other.example {other.get_name()} {other.get_base64()}\n" + known_hosts.read_text())
    server.host_key = paramiko.ECDSAKey.generate()

    assert forget_host_key("127.0.0.1", server.port, known_hosts) is True
    assert forget_host_key("127.0.0.1", server.port, known_hosts) is False
    assert known_hosts.read_text().startswith("other.example ")  # other servers' keys stay
    with pytest.raises(UploadFailed) as caught:
        upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts)
    assert failure(caught).problem is UploadProblem.UNKNOWN_HOST


def test_a_missing_remote_folder_is_named(server: SftpTestServer, known_hosts: Path,
                                          batch_files: list[Path]) -> None:
    trust(server, known_hosts)
    with pytest.raises(UploadFailed) as caught:
        upload_files(SftpTarget("127.0.0.1", server.port, USERNAME, "/outbound"), PASSWORD, batch_files,
                     known_hosts=known_hosts)
    assert failure(caught).problem is UploadProblem.REMOTE_FOLDER
    assert "The folder /outbound does not exist on the clearinghouse's SFTP server" in str(caught.value)
    assert not failure(caught).retryable


def test_a_different_file_of_the_same_name_is_never_replaced(server: SftpTestServer, target: SftpTarget,
                                                             known_hosts: Path, batch_files: list[Path]) -> None:
    trust(server, known_hosts)
    earlier = server.root / "inbound" / "TESTCH_000000002.837"
    earlier.write_bytes(b"ISA*an earlier, different batch~")

    with pytest.raises(UploadFailed) as caught:
        upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts)

    assert failure(caught).problem is UploadProblem.ALREADY_SENT
    assert "already has a different file named TESTCH_000000002.837" in str(caught.value)
    assert not failure(caught).retryable
    # Refused before anything was sent: not even the first file went.
    assert server.files() == {"TESTCH_000000002.837": b"ISA*an earlier, different batch~"}


def test_an_identical_file_already_there_is_reported_not_sent_again(
    server: SftpTestServer, target: SftpTarget, known_hosts: Path, batch_files: list[Path],
) -> None:
    trust(server, known_hosts)
    earlier = server.root / "inbound" / "TESTCH_000000001.837"
    earlier.write_bytes(FIRST)
    before = earlier.stat().st_mtime_ns
    steps: list[tuple[int, int]] = []

    result = upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts, progress=lambda *a: steps.append(a))

    assert result.already_there == ("/inbound/TESTCH_000000001.837",)
    assert result.remote_paths == ("/inbound/TESTCH_000000001.837", "/inbound/TESTCH_000000002.837")
    assert earlier.stat().st_mtime_ns == before
    assert server.files() == {"TESTCH_000000001.837": FIRST, "TESTCH_000000002.837": SECOND}
    assert steps == [(1, 2), (2, 2)]
    assert "1 file(s) already there with the same content" in result.text()


def test_cancel_stops_between_files(server: SftpTestServer, target: SftpTarget, known_hosts: Path,
                                    batch_files: list[Path]) -> None:
    trust(server, known_hosts)
    steps: list[tuple[int, int]] = []

    result = upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts,
                          progress=lambda *a: steps.append(a), cancelled=lambda: len(steps) >= 1)

    assert result.cancelled
    assert result.remote_paths == ("/inbound/TESTCH_000000001.837",)
    assert server.files() == {"TESTCH_000000001.837": FIRST}
    assert "remaining files were not sent" in result.text()


def write_key(path: Path, passphrase: str, key_format: str) -> paramiko.PKey:
    """A client key file as ssh-keygen writes it today (OpenSSH, Ed25519) or as older tools did (PEM)."""
    if key_format == "pem-ecdsa":
        key = paramiko.ECDSAKey.generate()
        key.write_private_key_file(str(path), password=passphrase)
        return key
    private = ed25519.Ed25519PrivateKey.generate()
    # One bcrypt round keeps the test fast; ssh-keygen uses 16, which changes nothing here.
    encryption = serialization.PrivateFormat.OpenSSH.encryption_builder().kdf_rounds(1).build(passphrase.encode())
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                           encryption))
    return paramiko.PKey.from_path(path, passphrase.encode())


KEY_FORMATS = ("openssh-ed25519", "pem-ecdsa")


@pytest.mark.parametrize("key_format", KEY_FORMATS)
def test_a_key_file_with_a_passphrase_signs_in(server: SftpTestServer, tmp_path: Path, known_hosts: Path,
                                               batch_files: list[Path], key_format: str) -> None:
    trust(server, known_hosts)
    key_file = tmp_path / "clinic_sftp_key"
    server.authorized_keys.append(write_key(key_file, PASSPHRASE, key_format))
    target = SftpTarget("127.0.0.1", server.port, USERNAME, "/inbound", key_file=key_file)

    upload_files(target, PASSPHRASE, batch_files, known_hosts=known_hosts)

    assert server.files() == {"TESTCH_000000001.837": FIRST, "TESTCH_000000002.837": SECOND}
    assert server.passwords_received == 0


@pytest.mark.parametrize("key_format", KEY_FORMATS)
@pytest.mark.parametrize(
    ("passphrase", "message"),
    [
        ("not the passphrase", "The passphrase for the key file .* is wrong"),
        (None, "is protected by a passphrase"),
    ],
)
def test_a_key_file_needs_its_right_passphrase(server: SftpTestServer, tmp_path: Path, known_hosts: Path,
                                               batch_files: list[Path], passphrase: str | None, message: str,
                                               key_format: str) -> None:
    trust(server, known_hosts)
    key_file = tmp_path / "clinic_sftp_key"
    server.authorized_keys.append(write_key(key_file, PASSPHRASE, key_format))
    target = SftpTarget("127.0.0.1", server.port, USERNAME, "/inbound", key_file=key_file)

    with pytest.raises(UploadFailed, match=message) as caught:
        upload_files(target, passphrase, batch_files, known_hosts=known_hosts)
    assert failure(caught).problem is UploadProblem.KEY_FILE and not failure(caught).retryable
    assert server.connections == 0  # refused before dialling


def test_a_key_the_server_does_not_know_is_refused(server: SftpTestServer, tmp_path: Path, known_hosts: Path,
                                                   batch_files: list[Path]) -> None:
    trust(server, known_hosts)
    key_file = tmp_path / "clinic_sftp_key"
    paramiko.ECDSAKey.generate().write_private_key_file(str(key_file))
    target = SftpTarget("127.0.0.1", server.port, USERNAME, "/inbound", key_file=key_file)

    with pytest.raises(UploadFailed, match="authentication refused") as caught:
        upload_files(target, None, batch_files, known_hosts=known_hosts)
    assert failure(caught).problem is UploadProblem.AUTHENTICATION


def test_a_server_that_cannot_store_files_leaves_nothing_half_written(
    server: SftpTestServer, target: SftpTarget, known_hosts: Path, batch_files: list[Path],
) -> None:
    trust(server, known_hosts)
    server.fail_writes = True  # as when its disk is full

    with pytest.raises(UploadFailed) as caught:
        upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts)

    assert failure(caught).problem is UploadProblem.REMOTE_WRITE
    assert failure(caught).retryable
    assert "did not store TESTCH_000000001.837" in str(caught.value) and "disk may be full" in str(caught.value)
    assert failure(caught).uploaded == ()
    assert server.files() == {}


def test_a_server_without_posix_rename_still_gets_whole_files(server: SftpTestServer, target: SftpTarget,
                                                              known_hosts: Path, batch_files: list[Path]) -> None:
    trust(server, known_hosts)
    server.posix_rename = False

    upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts)

    assert server.files() == {"TESTCH_000000001.837": FIRST, "TESTCH_000000002.837": SECOND}


def test_the_password_is_never_logged(server: SftpTestServer, target: SftpTarget, known_hosts: Path,
                                      batch_files: list[Path], caplog: pytest.LogCaptureFixture) -> None:
    trust(server, known_hosts)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(UploadFailed):
        upload_files(target, "wrong-fictional-password", batch_files, known_hosts=known_hosts)
    upload_files(target, PASSWORD, batch_files, known_hosts=known_hosts)
    assert caplog.records  # paramiko did log the conversation...
    assert PASSWORD not in caplog.text and "wrong-fictional-password" not in caplog.text  # ...but not the secret


def test_a_profile_gives_the_target_and_missing_details_are_named() -> None:
    profile = ClearinghouseSettings(
        name="Test Clearinghouse", sender_qualifier="ZZ", sender_id="FICTIONAL", receiver_qualifier="ZZ",
        receiver_id="TESTCH", application_sender_code="FICTIONAL", application_receiver_code="TESTCH",
        production=False, sftp_host="sftp.clearinghouse.example", sftp_port=None, sftp_username="clinic01",
        sftp_remote_dir="/inbound",
    )
    assert target_for(profile) == SftpTarget("sftp.clearinghouse.example", 22, "clinic01", "/inbound")
    with pytest.raises(ValidationFailed) as caught:
        target_for(ClearinghouseSettings(**{**{f: getattr(profile, f) for f in profile.__slots__},  # type: ignore[attr-defined]
                                            "sftp_host": None}))
    assert [f.subject for f in caught.value.findings] == ["sftp_host"]
    assert "upload the files through the portal" in caught.value.findings[0].message


def test_known_server_keys_live_beside_the_clinic_database() -> None:
    assert default_known_hosts().parent == default_database_path().parent
    assert host_key_name("sftp.clearinghouse.example", 22) == "sftp.clearinghouse.example"
    assert host_key_name("sftp.clearinghouse.example", 2222) == "[sftp.clearinghouse.example]:2222"
