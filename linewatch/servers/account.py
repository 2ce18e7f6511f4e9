"""The unprivileged account a launcher runs its server as, and the private folders that account owns.

PostgreSQL refuses to run as root and slapd should not, so a launcher started by root (test containers,
``make test`` under sudo) runs them as the system account their Debian package creates (``postgres``,
``openldap``). Nothing existing changes mode: the server's work folder is a *new* folder owned by that account
with mode 0700, made under the system temporary directory (world-traversable) unless the caller names one; a
named folder must already be reachable by the account, and the error names the parent folder that is not.
snmpsim, which drops to ``nobody`` by itself, uses the same account type to check that it can still read its
venv (:meth:`ServiceAccount.cannot_read`) and to own its private data folder.
Started by anyone else, servers run as the caller and none of this applies.
"""

from __future__ import annotations

import os
import pwd
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from linewatch.errors import ServerError
from linewatch.servers.process import find_executable


@dataclass(frozen=True)
class ServiceAccount:
    """A system account by name, uid and gid; ``switch`` is False when it is the current user."""

    name: str
    uid: int
    gid: int

    @classmethod
    def for_server(cls, run_as: str | None, *, server: str, root_default: str, package: str) -> ServiceAccount:
        """``run_as``, or ``root_default`` when we are root, or the current user."""
        if run_as is None:
            if os.geteuid() != 0:
                return cls(pwd.getpwuid(os.geteuid()).pw_name, os.geteuid(), os.getegid())
            run_as = root_default
        try:
            entry = pwd.getpwnam(run_as)
        except KeyError:
            raise ServerError(
                f"user {run_as!r} does not exist: {server} is not run as root, so the launcher runs it as "
                f"{run_as!r}, which Debian's {package!r} package creates (scripts/ensure-sysdeps.sh installs it); "
                "or pass run_as= another unprivileged user"
            ) from None
        if entry.pw_uid == 0:
            raise ServerError(f"run_as={run_as!r} is root; {server} must run as an unprivileged user")
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid)

    @property
    def switch(self) -> bool:
        """True when the server must run as another user than ours (we are root)."""
        return self.uid != os.geteuid()

    def private_dir(self, *, prefix: str) -> Path:
        """A new folder under the system temp dir, mode 0700, owned by this account."""
        path = Path(tempfile.mkdtemp(prefix=prefix)).resolve()
        if self.switch:
            os.chown(path, self.uid, self.gid)
        return path

    def claim(self, path: Path, *, server: str) -> Path:
        """Make sure the account owns ``path`` and can reach it; a missing ``path`` is created (0700, its own).

        Raises ServerError naming the folder that is in the way; no existing mode or owner is changed.
        """
        path = Path(path).resolve()
        if not self.switch:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            return path
        for parent in reversed(path.parents):
            if not parent.exists():
                break
            info = parent.stat()
            if not (
                (info.st_uid == self.uid and info.st_mode & 0o100)
                or (info.st_gid == self.gid and info.st_mode & 0o010)
                or info.st_mode & 0o001
            ):
                raise ServerError(
                    f"{server} runs as {self.name!r}, who cannot enter {parent} (mode {info.st_mode & 0o777:o}) "
                    f"on the way to {path}: leave the work folder out (the launcher makes a private one under the "
                    "system temp dir) or choose one that user can reach"
                )
        if not path.exists():
            path.mkdir(mode=0o700, parents=True)
            os.chown(path, self.uid, self.gid)
        owner = path.stat().st_uid
        if owner != self.uid:
            raise ServerError(
                f"{path} belongs to uid {owner}, but {server} runs as {self.name!r} (uid {self.uid}) and must own "
                "its work folder: leave the work folder out (the launcher makes one) or give a new path"
            )
        return path

    def cannot_read(self, path: Path) -> str | None:
        """None when this account can reach and read ``path``; else the first folder or file in its way."""
        p = Path(path).resolve()
        for node in [*reversed(p.parents), p]:
            try:
                st = node.stat()
            except OSError as exc:
                return f"{node}: {exc.strerror}"
            if st.st_uid == self.uid:
                need = stat.S_IXUSR if node != p else stat.S_IRUSR
            elif st.st_gid == self.gid:
                need = stat.S_IXGRP if node != p else stat.S_IRGRP
            else:
                need = stat.S_IXOTH if node != p else stat.S_IROTH
            if not st.st_mode & need:
                return f"{node} is mode {stat.filemode(st.st_mode)} owned by uid {st.st_uid}"
        return None

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run as this account (util-linux ``setpriv``: exec, no PAM session, no extra groups)."""
        if not self.switch:
            return list(argv)
        setpriv = find_executable("setpriv", debian_package="util-linux")
        return [setpriv, f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--", *argv]

    def give(self, path: Path) -> None:
        """Hand a file we created to the account (for files the server itself must read)."""
        if self.switch:
            os.chown(path, self.uid, self.gid)

