"""The slapd launcher: a private OpenLDAP on loopback with users and groups, checked with ldap-utils."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from linewatch.errors import ServerError
from linewatch.servers.slapd import LdapGroup, LdapUser, SlapdServer, parse_ldif

ROOT = os.geteuid() == 0


def _cli(server: SlapdServer, tool: str, *args: str, bind: tuple[str, str] | None, tmp_path: Path):
    """Run an ldap-utils tool the way an operator would (password from a 0600 file, no ldap.conf)."""
    argv = [tool, "-x", "-H", server.url, "-o", "nettimeout=10"]
    if bind is not None:
        secret = tmp_path / f"pw-{tool}"
        secret.write_text(bind[1])
        secret.chmod(0o600)
        argv += ["-D", bind[0], "-y", str(secret)]
    env = {**os.environ, "LDAPNOINIT": "1"}
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60, env=env, check=False)


@pytest.mark.parametrize("uid", ["alice", "bob", "carol", "dave", "erin"])
def test_loaded_user_binds_with_ldapwhoami(slapd_server: SlapdServer, uid: str, tmp_path: Path) -> None:
    user = slapd_server.users[uid]
    run = _cli(slapd_server, "ldapwhoami", bind=(slapd_server.user_dn(uid), user.password), tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"dn:uid={uid},ou=people,dc=linewatch,dc=test"


@pytest.mark.parametrize(
    ("dn", "password"),
    [
        ("uid=alice,ou=people,dc=linewatch,dc=test", "bob-pw-2"),
        ("uid=nobody,ou=people,dc=linewatch,dc=test", "alice-pw-1"),
        ("cn=admin,dc=linewatch,dc=test", "alice-pw-1"),
    ],
    ids=["other-users-password", "unknown-user", "admin-with-user-password"],
)
def test_wrong_credentials_are_refused(slapd_server: SlapdServer, dn: str, password: str, tmp_path: Path) -> None:
    run = _cli(slapd_server, "ldapwhoami", bind=(dn, password), tmp_path=tmp_path)
    assert run.returncode == 49, (run.returncode, run.stdout, run.stderr)
    assert "Invalid credentials" in run.stderr


@pytest.mark.parametrize(
    ("group", "members"),
    [("noc", ["alice", "carol"]), ("finance", ["bob"]), ("engineering", ["carol"]), ("lw-admins", ["dave"])],
    ids=["noc", "finance", "engineering", "lw-admins"],
)
def test_ldapsearch_lists_group_members(
    slapd_server: SlapdServer, group: str, members: list[str], tmp_path: Path
) -> None:
    """As a bound user (what django-auth-ldap's group search does), not as the admin."""
    alice = slapd_server.users["alice"]
    run = _cli(slapd_server, "ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", "ou=groups,dc=linewatch,dc=test",
               f"(&(objectClass=groupOfNames)(cn={group}))", "member",
               bind=(slapd_server.user_dn("alice"), alice.password), tmp_path=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    [entry] = parse_ldif(run.stdout)
    assert entry["dn"] == [f"cn={group},ou=groups,dc=linewatch,dc=test"]
    assert sorted(entry["member"]) == [f"uid={uid},ou=people,dc=linewatch,dc=test" for uid in members]
    assert slapd_server.group_members(group) == entry["member"]


@pytest.fixture(scope="module")
def memberof_names(slapd_server: SlapdServer) -> dict[str, str]:
    """Users and groups of this module's own on the session slapd: ``ana`` in g1, ``cal`` in g1 and g2, ``eve``
    in none. Other tests change the session directory (a web test puts ``erin`` into groups of its own, and
    pytest-django runs the database tests first), so memberOf is checked on entries nobody else touches."""
    tag = uuid.uuid4().hex[:8]
    names = {short: f"mo-{short}-{tag}" for short in ("ana", "cal", "eve", "g1", "g2")}
    slapd_server.add_users([LdapUser(names[u], password=f"{u}-pw-{tag}") for u in ("ana", "cal", "eve")])
    slapd_server.add_groups([LdapGroup(names["g1"], members=(names["ana"], names["cal"])),
                             LdapGroup(names["g2"], members=(names["cal"],))])  # fmt: skip
    return names


@pytest.mark.parametrize(
    ("uid", "groups"),
    [("ana", ["g1"]), ("cal", ["g1", "g2"]), ("eve", [])],
    ids=["one-group", "two-groups", "no-group"],
)
def test_memberof_is_not_changed_by_groups_other_tests_add(
    slapd_server: SlapdServer, memberof_names: dict[str, str], uid: str, groups: list[str]
) -> None:
    """memberOf names exactly the user's groups (it used to read ``erin``, whom a web test puts in groups)."""
    [entry] = slapd_server.search(f"(uid={memberof_names[uid]})", ["memberOf"], base=slapd_server.people_dn)
    assert sorted(entry.get("memberOf", [])) == sorted(slapd_server.group_dn(memberof_names[cn]) for cn in groups)


def test_memberof_follows_a_group_change_at_once(slapd_server: SlapdServer, tmp_path: Path) -> None:
    """The overlay updates memberOf inside the modify itself: the next search sees it, no waiting."""
    tag = uuid.uuid4().hex[:8]
    uid, old, new = f"mv-{tag}", f"mv-old-{tag}", f"mv-new-{tag}"
    slapd_server.add_users([LdapUser(uid, password=f"mv-pw-{tag}"), LdapUser(f"{uid}-x", password=f"x-pw-{tag}")])
    slapd_server.add_groups([LdapGroup(old, members=(uid,)), LdapGroup(new, members=(f"{uid}-x",))])
    admin = (slapd_server.admin_dn, slapd_server.admin_password)
    change = (f"dn: {slapd_server.group_dn(new)}\nchangetype: modify\nadd: member\nmember: {slapd_server.user_dn(uid)}\n\n"
              f"dn: {slapd_server.group_dn(old)}\nchangetype: modify\nreplace: member\n"
              f"member: {slapd_server.user_dn(uid + '-x')}\n")  # fmt: skip
    (tmp_path / "move.ldif").write_text(change)
    run = _cli(slapd_server, "ldapmodify", "-f", str(tmp_path / "move.ldif"), bind=admin, tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    [entry] = slapd_server.search(f"(uid={uid})", ["memberOf"], base=slapd_server.people_dn)
    assert entry["memberOf"] == [slapd_server.group_dn(new)]


def test_anonymous_users_can_bind_but_not_read(slapd_server: SlapdServer, tmp_path: Path) -> None:
    run = _cli(slapd_server, "ldapsearch", "-LLL", "-b", slapd_server.base_dn, "(uid=alice)", bind=None,
               tmp_path=tmp_path)  # fmt: skip
    assert "uid=alice" not in run.stdout
    assert run.returncode == 32, (run.returncode, run.stderr)  # noSuchObject: the base is invisible


def test_passwords_are_stored_hashed_and_only_their_owner_reads_them(slapd_server: SlapdServer) -> None:
    [as_admin] = slapd_server.search("(uid=bob)", ["userPassword"])
    assert as_admin["userPassword"][0].startswith("{SSHA}")
    assert "bob-pw-2" not in as_admin["userPassword"][0]
    alice = (slapd_server.user_dn("alice"), slapd_server.users["alice"].password)
    [as_alice] = slapd_server.search("(uid=bob)", ["userPassword", "mail"], bind=alice)
    assert "userPassword" not in as_alice
    assert as_alice["mail"] == ["bob@linewatch.test"]


def test_admin_password_is_only_in_its_0600_file(slapd_server: SlapdServer) -> None:
    secret = slapd_server.admin_password
    config = slapd_server.config_path.read_text()
    assert "rootpw {SSHA}" in config and secret not in config
    assert secret not in slapd_server.log_path.read_text()
    assert secret not in repr(slapd_server)
    assert stat.S_IMODE(slapd_server.admin_password_path.stat().st_mode) == 0o600
    assert not list(slapd_server.work_dir.glob(".secret-*")), "password files of the ldap tools are removed"


def test_user_repr_hides_password() -> None:
    assert "s3cret-pw" not in repr(LdapUser("x", password="s3cret-pw"))


def test_runs_as_unprivileged_user_in_a_0700_folder_of_its_own(slapd_server: SlapdServer) -> None:
    assert slapd_server.pid is not None
    status = Path(f"/proc/{slapd_server.pid}/status").read_text()
    uids = {int(v) for v in next(li for li in status.splitlines() if li.startswith("Uid:")).split()[1:]}
    assert uids == {slapd_server.account.uid} and 0 not in uids
    if ROOT:
        assert slapd_server.account.name == "openldap"
    for path in (slapd_server.work_dir, slapd_server.db_dir):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
        assert path.stat().st_uid == slapd_server.account.uid, path


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss")
def test_only_listener_is_the_loopback_port(slapd_server: SlapdServer) -> None:
    out = subprocess.run(["ss", "-H", "-lntpx"], capture_output=True, text=True, check=True).stdout
    mine = [line.split()[4] for line in out.splitlines() if f"pid={slapd_server.pid}," in line]
    assert mine == [f"127.0.0.1:{slapd_server.port}"]


def test_bad_ldif_names_its_source_entry_and_reason(slapd_server: SlapdServer, tmp_path: Path) -> None:
    ldif = tmp_path / "groups.ldif"
    ldif.write_text(
        "dn: cn=ok-grp,ou=groups,dc=linewatch,dc=test\nobjectClass: groupOfNames\ncn: ok-grp\n"
        "member: uid=alice,ou=people,dc=linewatch,dc=test\n\n"
        "dn: cn=empty-grp,ou=groups,dc=linewatch,dc=test\nobjectClass: groupOfNames\ncn: empty-grp\n"
    )
    with pytest.raises(
        ServerError, match=rf"(?s)ldapadd of {ldif} .* at entry 'cn=empty-grp,.*requires attribute 'member'"
    ):
        slapd_server.load_ldif(ldif)
    assert slapd_server.group_members("ok-grp") == ["uid=alice,ou=people,dc=linewatch,dc=test"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LdapUser("a b", password="pw-12345"), "user name 'a b'"),
        (lambda: LdapUser("x,dc=evil", password="pw-12345"), "user name 'x,dc=evil'"),
        (lambda: LdapUser("frank", password=""), "password must not be empty"),
        (lambda: LdapGroup("noc2", members=()), "needs at least one member"),
        (lambda: LdapGroup("g", members=("a*",)), "user name 'a\\*'"),
    ],
    ids=["space", "dn-injection", "empty-password", "empty-group", "bad-member"],
)
def test_bad_user_or_group_is_refused_with_reason(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_restart_keeps_port_entries_and_admin_password() -> None:
    with SlapdServer() as server:
        server.add_users([LdapUser("frank", password="frank-pw-6")])
        server.add_groups([LdapGroup("noc", members=("frank",))])
        url, secret = server.url, server.admin_password
        server.restart()
        assert (server.url, server.admin_password) == (url, secret)
        assert server.group_members("noc") == [server.user_dn("frank")]
        assert server.whoami(server.user_dn("frank"), "frank-pw-6") == f"dn:{server.user_dn('frank')}"
    assert not server.running and not server.work_dir.exists()


def test_port_in_use_fails_with_log_tail() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = SlapdServer(port=taken.getsockname()[1])
        try:
            with pytest.raises(ServerError, match="(?s)exited with code.*Address already in use"):
                server.start()
            assert not server.running
        finally:
            server.cleanup()


def test_missing_run_as_user_is_named() -> None:
    with pytest.raises(ServerError, match="user 'no-such-lw-user' does not exist"):
        SlapdServer(run_as="no-such-lw-user")


def test_server_left_running_is_stopped_and_its_folder_removed_at_interpreter_exit() -> None:
    script = "from linewatch.servers.slapd import SlapdServer; s = SlapdServer().start(); print(s.pid, s.work_dir)"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    pid, work_dir = run.stdout.split()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)
    assert not Path(work_dir).exists()
