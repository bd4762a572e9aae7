"""Uploading exported claim batch files to the clearinghouse's SFTP server, safely.

    target = SftpTarget("sftp.clearinghouse.example", 22, "clinic01", "/inbound")
    result = upload_files(target, load_sftp_secret("Demo Clearinghouse"), [Path("DemoCH_000000012.837")])
    result.remote_paths   # ('/inbound/DemoCH_000000012.837',)

What keeps the clearinghouse's inbox straight:

* **Whole files only.** Each file is written as ``<name>.part`` and renamed to its final name
  once every byte has arrived (the server's size is checked first), so the clearinghouse never
  picks up half a file.
* **Never twice.** A file already on the server under the same name is never replaced: if
  its content is identical it is reported as already there (an earlier upload that lost its
  connection after the rename), and if it differs nothing is uploaded at all.
* **The right server.** The server's host key is checked against the clinic's known hosts file
  (OpenSSH format) before the password is sent. A server never seen before is refused with its
  fingerprint, to compare with the one the clearinghouse publishes, unless the user trusts it;
  then the key is remembered. A key that changed is always refused.

Every failure is an :class:`UploadFailed` with a plain message and ``retryable`` telling the
caller whether trying again later can help (network down, server busy) or something must be
fixed first (password, folder, host key). The secret (password or key passphrase) is never
put into a message, a log or a file.
"""

from __future__ import annotations

import io
import posixpath
import socket
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import paramiko
from paramiko.hostkeys import InvalidHostKey
from platformdirs import user_data_dir

from infusion_desk.billing.findings import Finding, error
from infusion_desk.services.clearinghouse import ClearinghouseSettings
from infusion_desk.services.errors import ServiceError, ValidationFailed

PART_SUFFIX = ".part"
DEFAULT_PORT = 22


def default_known_hosts() -> Path:
    """The clinic workstation's file of trusted SFTP server keys, beside its database."""
    return Path(user_data_dir("InfusionDesk", "InfusionDesk")) / "known_hosts"


@dataclass(frozen=True, slots=True)
class SftpTarget:
    """Where to upload; with ``key_file`` the secret is that key's passphrase, else the password."""

    host: str
    port: int
    username: str
    remote_dir: str
    key_file: Path | None = None


@dataclass(frozen=True, slots=True)
class UploadResult:
    remote_paths: tuple[str, ...]
    """Every file now on the server, in the order given: uploaded now or already there."""
    already_there: tuple[str, ...] = ()
    """Of those, the ones found on the server with identical content (not sent again)."""
    cancelled: bool = False
    """The user cancelled: the files not listed were not sent."""

    def text(self) -> str:
        sent = len(self.remote_paths) - len(self.already_there)
        lines = [f"{sent} file(s) uploaded."]
        lines.extend(f"  {p}" for p in self.remote_paths if p not in self.already_there)
        if self.already_there:
            lines.append(f"{len(self.already_there)} file(s) already there with the same content, "
                         "not sent again:")
            lines.extend(f"  {p}" for p in self.already_there)
        if self.cancelled:
            lines.append("Upload cancelled; the remaining files were not sent.")
        return "\n".join(lines)


class UploadProblem(StrEnum):
    UNREACHABLE = "unreachable"
    CONNECTION_LOST = "connection lost"
    AUTHENTICATION = "authentication refused"
    KEY_FILE = "key file"
    UNKNOWN_HOST = "unknown host key"
    HOST_KEY_CHANGED = "host key changed"
    KNOWN_HOSTS = "known hosts file"
    REMOTE_FOLDER = "remote folder"
    ALREADY_SENT = "different file already there"
    REMOTE_WRITE = "remote write failed"
    LOCAL_FILE = "local file"


class UploadFailed(ServiceError):
    """An upload that did not (fully) happen, with a message the user can act on.

    ``retryable``: the environment's fault (network, busy or full server), worth trying again
    as is. ``fingerprint``: the server's host key (for :attr:`UploadProblem.UNKNOWN_HOST` and
    :attr:`UploadProblem.HOST_KEY_CHANGED`), to compare with the clearinghouse's. ``uploaded``:
    the remote paths that did arrive before the failure.
    """

    def __init__(
        self,
        message: str,
        problem: UploadProblem,
        *,
        retryable: bool,
        fingerprint: str | None = None,
        uploaded: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.retryable = retryable
        self.fingerprint = fingerprint
        self.uploaded = uploaded


def target_for(settings: ClearinghouseSettings, key_file: Path | None = None) -> SftpTarget:
    """The SFTP target a clearinghouse profile describes; refused when its SFTP details are missing."""
    findings: list[Finding] = []
    if not settings.sftp_host:
        findings.append(error("SFTP_HOST", f"No SFTP server is set up for {settings.name}. Enter it in "
                              "File → Clearinghouse…, or upload the files through the portal.", "sftp_host"))
    if not settings.sftp_username:
        findings.append(error("SFTP_USER", "Enter the SFTP user name the clearinghouse gave you in "
                              "File → Clearinghouse….", "sftp_username"))
    if findings:
        raise ValidationFailed(findings)
    assert settings.sftp_host is not None and settings.sftp_username is not None
    return SftpTarget(settings.sftp_host, settings.sftp_port or DEFAULT_PORT, settings.sftp_username,
                      settings.sftp_remote_dir or "", key_file)


def host_key_name(host: str, port: int) -> str:
    """The server's name in a known hosts file, as OpenSSH writes it.

    >>> host_key_name("sftp.example", 22), host_key_name("sftp.example", 2222)
    ('sftp.example', '[sftp.example]:2222')
    """
    return host if port == DEFAULT_PORT else f"[{host}]:{port}"


def _key_family(algorithm: str) -> str:
    """The known-hosts key type a host key algorithm produces (RSA signs as rsa-sha2-*)."""
    base = algorithm.removesuffix("-cert-v01@openssh.com")
    return "ssh-rsa" if base in ("rsa-sha2-256", "rsa-sha2-512") else base


def _load_known_hosts(path: Path) -> paramiko.HostKeys:
    keys = paramiko.HostKeys()
    if path.exists():
        try:
            keys.load(str(path))
        except (OSError, InvalidHostKey) as exc:
            raise UploadFailed(
                f"The saved server keys in {path} cannot be read ({exc}). Move that file aside and "
                "upload again; you will be asked to confirm the server's key.",
                UploadProblem.KNOWN_HOSTS, retryable=False,
            ) from None
    return keys


def _remember_host(path: Path, name: str, key: paramiko.PKey) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existing = path.read_bytes() if path.exists() else b""
        with path.open("ab") as handle:
            if existing and not existing.endswith(b"\n"):
                handle.write(b"\n")
            handle.write(f"{name} {key.get_name()} {key.get_base64()}\n".encode("ascii"))
    except OSError as exc:
        raise UploadFailed(
            f"The server's key could not be saved to {path} ({exc.strerror or exc}). Check that "
            "folder, then try again.", UploadProblem.KNOWN_HOSTS, retryable=True,
        ) from None


def _names_host(field: str, name: str) -> bool:
    """Whether a known hosts line's host field (plain, comma-separated or hashed) names ``name``."""
    for host in field.split(","):
        if host == name or (host.startswith("|1|") and paramiko.HostKeys.hash_host(name, host) == host):
            return True
    return False


def forget_host_key(host: str, port: int, known_hosts: Path | None = None) -> bool:
    """Drop a server's saved keys (once the clearinghouse confirms it changed them); ``True`` if any were."""
    path = known_hosts or default_known_hosts()
    name = host_key_name(host, port)
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
        kept = [line for line in lines if not (line.split() and _names_host(line.split()[0], name))]
        if len(kept) == len(lines):
            return False
        temp = path.with_name(path.name + PART_SUFFIX)
        temp.write_text("".join(kept), encoding="utf-8")
        temp.replace(path)
    except OSError as exc:
        raise UploadFailed(f"The saved server keys in {path} cannot be changed ({exc.strerror or exc}).",
                           UploadProblem.KNOWN_HOSTS, retryable=True) from None
    return True


def _load_key(path: Path, passphrase: str | None) -> paramiko.PKey:
    password = passphrase.encode("utf-8") if passphrase else None
    try:
        try:
            return paramiko.PKey.from_path(path, password)
        except TypeError:
            # cryptography: a passphrase given for a key without one, or none for a key with one.
            if password is None:
                raise UploadFailed(
                    f"The key file {path} is protected by a passphrase. Enter the passphrase as the SFTP "
                    "password, then upload again.", UploadProblem.KEY_FILE, retryable=False,
                ) from None
            return paramiko.PKey.from_path(path, None)
    except OSError as exc:
        raise UploadFailed(f"The key file {path} cannot be read ({exc.strerror or exc}).",
                           UploadProblem.KEY_FILE, retryable=False) from None
    except ValueError:
        raise UploadFailed(
            f"The passphrase for the key file {path} is wrong, or the file is not a private key.",
            UploadProblem.KEY_FILE, retryable=False,
        ) from None
    except (paramiko.SSHException, TypeError):
        raise UploadFailed(
            f"The key file {path} is not a kind of key Infusion Desk can use (Ed25519, ECDSA or RSA).",
            UploadProblem.KEY_FILE, retryable=False,
        ) from None


def _open_socket(target: SftpTarget, timeout: float) -> socket.socket:
    where = f"{target.host}:{target.port}"
    try:
        return socket.create_connection((target.host, target.port), timeout=timeout)
    except socket.gaierror:
        message = (f"The SFTP server {target.host!r} could not be found. Check the internet connection "
                   "and the SFTP host in File → Clearinghouse…, then try again.")
    except TimeoutError:
        message = (f"The clearinghouse's SFTP server {where} did not answer within {timeout:g} seconds. "
                   "Check the internet connection, then try again.")
    except OSError as exc:
        message = (f"Could not connect to the clearinghouse's SFTP server {where} "
                   f"({(exc.strerror or str(exc)).lower()}). Check the internet connection and the SFTP "
                   "host and port in File → Clearinghouse…, then try again.")
    raise UploadFailed(message, UploadProblem.UNREACHABLE, retryable=True)


def _connection_lost(target: SftpTarget, exc: BaseException) -> UploadFailed:
    reason = str(exc) or type(exc).__name__
    return UploadFailed(
        f"The connection to the clearinghouse's SFTP server {target.host} was lost ({reason}). "
        "Try again in a moment.", UploadProblem.CONNECTION_LOST, retryable=True,
    )


def _check_host_key(
    transport: paramiko.Transport, target: SftpTarget, known: paramiko.HostKeys, known_hosts: Path,
    trust_new_host: bool,
) -> None:
    name = host_key_name(target.host, target.port)
    key = transport.get_remote_server_key()
    fingerprint = key.fingerprint
    saved = known.lookup(name)
    if saved:
        if saved.get(key.get_name()) == key:
            return
        raise UploadFailed(
            f"The SFTP server {name} did not identify itself with the key saved for it: its key is now "
            f"{fingerprint}. Someone may be intercepting the connection, so nothing was sent. Call the "
            "clearinghouse: only if they confirm they changed their server's key, have the old key "
            f"removed from {known_hosts}, then upload again.",
            UploadProblem.HOST_KEY_CHANGED, retryable=False, fingerprint=fingerprint,
        )
    if not trust_new_host:
        raise UploadFailed(
            f"Infusion Desk has not uploaded to {name} before. The server's key fingerprint is "
            f"{fingerprint} ({key.get_name()}). Compare it with the fingerprint the clearinghouse gave "
            "you; if they match, trust the server and upload again.",
            UploadProblem.UNKNOWN_HOST, retryable=False, fingerprint=fingerprint,
        )
    _remember_host(known_hosts, name, key)


def _authenticate(transport: paramiko.Transport, target: SftpTarget, secret: str | None,
                  key: paramiko.PKey | None) -> None:
    try:
        if key is not None:
            transport.auth_publickey(target.username, key)
        else:
            transport.auth_password(target.username, secret or "")
    except paramiko.BadAuthenticationType as exc:
        how = "a key file" if key is None else "a password"
        raise UploadFailed(
            f"The SFTP server does not accept this way of signing in (it asks for "
            f"{', '.join(exc.allowed_types) or 'something else'}). Ask the clearinghouse whether to use "
            f"{how} instead.", UploadProblem.AUTHENTICATION, retryable=False,
        ) from None
    except paramiko.AuthenticationException:
        what = "key" if key is not None else "password"
        raise UploadFailed(
            f"The clearinghouse's SFTP server refused the user name {target.username!r} and this {what} "
            "(authentication refused). Check them in File → Clearinghouse…, then upload again.",
            UploadProblem.AUTHENTICATION, retryable=False,
        ) from None


@contextmanager
def _sftp_session(
    target: SftpTarget, secret: str | None, known_hosts: Path, trust_new_host: bool, timeout: float,
) -> Iterator[paramiko.SFTPClient]:
    key = _load_key(target.key_file, secret) if target.key_file is not None else None
    if key is None and not secret:
        raise UploadFailed(f"Enter the SFTP password for {target.username!r} to upload.",
                           UploadProblem.AUTHENTICATION, retryable=False)
    known = _load_known_hosts(known_hosts)
    sock = _open_socket(target, timeout)
    transport = paramiko.Transport(sock)
    sftp: paramiko.SFTPClient | None = None
    try:
        transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = timeout
        saved_types = set(known.lookup(host_key_name(target.host, target.port)) or {})
        if saved_types:
            # Like OpenSSH: ask for the kind of key on file first, so a server that also has a
            # newer kind of key is still recognised.
            options = transport.get_security_options()
            options.key_types = sorted(options.key_types, key=lambda alg: _key_family(alg) not in saved_types)
        try:
            transport.start_client(timeout=timeout)
            _check_host_key(transport, target, known, known_hosts, trust_new_host)
            _authenticate(transport, target, secret, key)
            sftp = paramiko.SFTPClient.from_transport(transport)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise _connection_lost(target, exc) from None
        if sftp is None:
            raise UploadFailed("The SFTP server did not open a file transfer session. Try again in a moment.",
                               UploadProblem.CONNECTION_LOST, retryable=True)
        sftp.get_channel().settimeout(timeout)
        yield sftp
    finally:
        if sftp is not None:
            sftp.close()
        transport.close()


def _remote_folder(sftp: paramiko.SFTPClient, target: SftpTarget) -> str:
    folder = target.remote_dir.strip() or "."
    shown = target.remote_dir.strip() or "the home folder"
    try:
        attrs = sftp.stat(folder)
    except FileNotFoundError:
        message = (f"The folder {shown} does not exist on the clearinghouse's SFTP server. Check the remote "
                   "folder in File → Clearinghouse… against the clearinghouse's instructions.")
    except PermissionError:
        message = (f"The SFTP user {target.username!r} may not open the folder {shown} on the "
                   "clearinghouse's server. Check the remote folder in File → Clearinghouse…, or ask "
                   "the clearinghouse.")
    else:
        if attrs.st_mode is None or stat.S_ISDIR(attrs.st_mode):
            return folder
        message = (f"{shown} on the clearinghouse's SFTP server is a file, not a folder. Check the remote "
                   "folder in File → Clearinghouse….")
    raise UploadFailed(message, UploadProblem.REMOTE_FOLDER, retryable=False)


def _same_remote_file(sftp: paramiko.SFTPClient, remote: str, data: bytes) -> bool | None:
    """``None`` when nothing is at ``remote``; else whether the file there has exactly ``data``."""
    try:
        attrs = sftp.stat(remote)
    except FileNotFoundError:
        return None
    if attrs.st_size != len(data):
        return False
    with sftp.open(remote, "rb") as handle:
        handle.prefetch(len(data))
        return bytes(handle.read()) == data


def _already_sent(names: Sequence[str]) -> UploadFailed:
    return UploadFailed(
        f"The clearinghouse's server already has a different file named {', '.join(names)}. Nothing was "
        "replaced, so a batch is never sent twice. Ask the clearinghouse about that file before uploading "
        "again.", UploadProblem.ALREADY_SENT, retryable=False,
    )


def _remove_quietly(sftp: paramiko.SFTPClient, remote: str) -> None:
    try:
        sftp.remove(remote)
    except (OSError, paramiko.SSHException, EOFError):
        pass  # the connection may be gone; a stale .part is harmless and overwritten next time


def _put(sftp: paramiko.SFTPClient, data: bytes, remote: str) -> bool:
    """Upload ``data`` to ``remote`` through ``<remote>.part``; ``False`` if the same file got there first."""
    part = remote + PART_SUFFIX
    try:
        sftp.putfo(io.BytesIO(data), part, file_size=len(data), confirm=True)
        # Looked at again just before the rename: another workstation may have sent it meanwhile.
        same = _same_remote_file(sftp, remote, data)
        if same is not None:
            _remove_quietly(sftp, part)
            if same:
                return False
            raise _already_sent([posixpath.basename(remote)])
        try:
            sftp.posix_rename(part, remote)
        except OSError:
            # Servers without OpenSSH's posix-rename extension: the standard rename, which
            # refuses an existing target, is just as safe here.
            sftp.rename(part, remote)
    except OSError:
        _remove_quietly(sftp, part)
        raise
    return True


def _remote_write_failed(target: SftpTarget, name: str, exc: OSError) -> UploadFailed:
    if isinstance(exc, PermissionError):
        return UploadFailed(
            f"The SFTP user {target.username!r} may not write {name} to the clearinghouse's server "
            "(permission denied). Ask the clearinghouse to check the account.",
            UploadProblem.REMOTE_WRITE, retryable=False,
        )
    reason = exc.strerror or str(exc) or "no reason given"
    return UploadFailed(
        f"The clearinghouse's SFTP server did not store {name} ({reason}); its disk may be full or it "
        "may be busy. Nothing half-written was left there. Try again later; if it keeps failing, call "
        "the clearinghouse.", UploadProblem.REMOTE_WRITE, retryable=True,
    )


def upload_files(
    target: SftpTarget,
    secret: str | None,
    files: Sequence[Path],
    *,
    known_hosts: Path | None = None,
    trust_new_host: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    timeout: float = 20.0,
) -> UploadResult:
    """Upload ``files`` into the target's remote folder, each whole or not at all, none twice.

    ``secret`` is the password, or the key file's passphrase (``None`` for a key without one).
    ``progress(done, total)`` is called after each file; ``cancelled()`` is asked before each.
    """
    known_hosts = known_hosts or default_known_hosts()
    contents: list[bytes] = []
    for path in files:
        try:
            contents.append(Path(path).read_bytes())
        except OSError as exc:
            raise UploadFailed(f"The batch file {path} cannot be read ({exc.strerror or exc}). Export it "
                               "again, then upload.", UploadProblem.LOCAL_FILE, retryable=False) from None
    names = [Path(path).name for path in files]
    if len(set(names)) != len(names):
        raise UploadFailed("Two of the files to upload have the same name; upload them separately.",
                           UploadProblem.LOCAL_FILE, retryable=False)
    on_server: list[str] = []
    already: list[str] = []
    was_cancelled = False
    current = ", ".join(names)
    with _sftp_session(target, secret, known_hosts, trust_new_host, timeout) as sftp:
        try:
            folder = _remote_folder(sftp, target)
            remotes = [posixpath.join(folder, name) if folder != "." else name for name in names]
            states = [_same_remote_file(sftp, r, data) for r, data in zip(remotes, contents, strict=True)]
            conflicts = [name for name, same in zip(names, states, strict=True) if same is False]
            if conflicts:
                raise _already_sent(conflicts)
            work = zip(names, remotes, contents, states, strict=True)
            for index, (name, remote, data, same) in enumerate(work):
                if cancelled is not None and cancelled():
                    was_cancelled = True
                    break
                current = name
                if same or not _put(sftp, data, remote):
                    already.append(remote)
                on_server.append(remote)
                if progress is not None:
                    progress(index + 1, len(files))
        except UploadFailed as exc:
            exc.uploaded = tuple(on_server)
            raise
        except (paramiko.SSHException, EOFError, ConnectionError, TimeoutError) as exc:
            failure = _connection_lost(target, exc)
            failure.uploaded = tuple(on_server)
            raise failure from None
        except OSError as exc:
            failure = _remote_write_failed(target, current, exc)
            failure.uploaded = tuple(on_server)
            raise failure from None
    return UploadResult(tuple(on_server), tuple(already), was_cancelled)

