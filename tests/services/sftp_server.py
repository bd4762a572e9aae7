"""A small SFTP server for upload tests: one temporary folder served on 127.0.0.1 from a thread.

    with SftpTestServer(root, host_key) as server:
        server.port                                  # a free port chosen by the system
        upload_files(SftpTarget("127.0.0.1", server.port, USERNAME, "/inbound"), PASSWORD, ...)

Built on paramiko's server interfaces (``ServerInterface`` for sign-in, ``SFTPServerInterface``
and ``SFTPHandle`` for the files). ``root`` is the server's ``/``; paths cannot leave it. It
accepts the fictional :data:`USERNAME` with :data:`PASSWORD`, or any key in
``authorized_keys``. The host key can be swapped while running (to play a server whose key
changed), writes can be made to fail (a full disk), and the OpenSSH ``posix-rename``
extension can be switched off (servers without it).
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from types import TracebackType

import paramiko
from paramiko.sftp import (
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
)

USERNAME = "fictional-clinic"
PASSWORD = "not-a-real-password-42"


def _error(exc: OSError) -> int:
    return paramiko.SFTPServer.convert_errno(exc.errno)


class _SignIn(paramiko.ServerInterface):
    def __init__(self, owner: SftpTestServer) -> None:
        self._owner = owner

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        self._owner.passwords_received += 1
        if username == USERNAME and password == PASSWORD:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        allowed = {k.get_base64() for k in self._owner.authorized_keys}
        if username == USERNAME and key.get_base64() in allowed:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _File(paramiko.SFTPHandle):
    def __init__(self, handle: object, flags: int, owner: SftpTestServer) -> None:
        super().__init__(flags)
        self._handle = handle
        self._owner = owner
        self.readfile = handle
        if flags & (os.O_WRONLY | os.O_RDWR):
            self.writefile = handle

    def write(self, offset: int, data: bytes) -> int:
        if self._owner.fail_writes:
            return SFTP_FAILURE
        result: int = super().write(offset, data)
        return result

    def stat(self) -> paramiko.SFTPAttributes | int:
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self._handle.fileno()))  # type: ignore[attr-defined]
        except OSError as exc:
            return _error(exc)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        return SFTP_OK  # modes and times sent along with an upload are not interesting here


class _Folder(paramiko.SFTPServerInterface):
    """The server's file system: ``owner.root`` seen as ``/``."""

    def __init__(self, server: _SignIn, owner: SftpTestServer) -> None:
        super().__init__(server)
        self._owner = owner

    def canonicalize(self, path: str) -> str:
        parts: list[str] = []
        for part in path.replace("\\", "/").split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def _local(self, path: str) -> Path:
        return self._owner.root.joinpath(*self.canonicalize(path).split("/")[1:])

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        folder = self._local(path)
        try:
            return [paramiko.SFTPAttributes.from_stat(entry.stat(), entry.name) for entry in folder.iterdir()]
        except OSError as exc:
            return _error(exc)

    def stat(self, path: str) -> paramiko.SFTPAttributes | int:
        try:
            return paramiko.SFTPAttributes.from_stat(self._local(path).stat())
        except OSError as exc:
            return _error(exc)

    lstat = stat

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> paramiko.SFTPHandle | int:
        local = self._local(path)
        if flags & os.O_WRONLY:
            mode = "ab" if flags & os.O_APPEND else "wb"
        elif flags & os.O_RDWR:
            mode = "a+b" if flags & os.O_APPEND else "r+b"
        else:
            mode = "rb"
        try:
            fd = os.open(local, flags | getattr(os, "O_BINARY", 0), 0o644)
            return _File(os.fdopen(fd, mode), flags, self._owner)
        except OSError as exc:
            return _error(exc)

    def remove(self, path: str) -> int:
        try:
            self._local(path).unlink()
        except OSError as exc:
            return _error(exc)
        return SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        # Standard SFTP rename never replaces an existing file.
        target = self._local(newpath)
        if target.exists():
            return SFTP_FAILURE
        try:
            self._local(oldpath).rename(target)
        except OSError as exc:
            return _error(exc)
        return SFTP_OK

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        if not self._owner.posix_rename:
            return SFTP_OP_UNSUPPORTED
        try:
            os.replace(self._local(oldpath), self._local(newpath))
        except OSError as exc:
            return _error(exc)
        return SFTP_OK

    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        try:
            self._local(path).mkdir()
        except OSError as exc:
            return _error(exc)
        return SFTP_OK

    def rmdir(self, path: str) -> int:
        try:
            self._local(path).rmdir()
        except OSError as exc:
            return _error(exc)
        return SFTP_OK

    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        return SFTP_OK if self._local(path).exists() else SFTP_NO_SUCH_FILE

    def readlink(self, path: str) -> int:
        return SFTP_PERMISSION_DENIED

    def symlink(self, target_path: str, path: str) -> int:
        return SFTP_PERMISSION_DENIED


class SftpTestServer:
    """Serves ``root`` over SFTP on 127.0.0.1 until :meth:`stop` (or the end of a ``with`` block)."""

    def __init__(self, root: Path, host_key: paramiko.PKey) -> None:
        self.root = root
        self.host_key = host_key
        self.extra_host_keys: list[paramiko.PKey] = []
        """Further host keys of other kinds, as a server that has both an ECDSA and an Ed25519 key."""
        self.authorized_keys: list[paramiko.PKey] = []
        self.fail_writes = False
        self.posix_rename = True
        self.connections = 0
        self.passwords_received = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.05)  # how often the accept loop looks whether to stop
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name=f"sftp-test-{self.port}", daemon=True)

    def start(self) -> SftpTestServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(None)
            transport = paramiko.Transport(connection)
            with self._lock:
                if self._stopping.is_set():
                    transport.close()
                    return
                self._transports.append(transport)
                self.connections += 1
            for key in (self.host_key, *self.extra_host_keys):
                transport.add_server_key(key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Folder, owner=self)
            try:
                transport.start_server(server=_SignIn(self))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()  # the client gave up during the handshake (e.g. an unknown host key)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            transports = list(self._transports)
        for transport in transports:
            transport.close()
        for transport in transports:
            transport.join(timeout=5)

    def __enter__(self) -> SftpTestServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def files(self, folder: str = "inbound") -> dict[str, bytes]:
        """Every file in ``folder`` (under the served root) by name, with its bytes."""
        return {p.name: p.read_bytes() for p in sorted((self.root / folder).iterdir()) if p.is_file()}
