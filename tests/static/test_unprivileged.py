"""tests/unit and tests/static pass as an unprivileged user on a checkout it cannot write to, in under 90 s.

As root (`make test`), a throwaway system user with no home and no shell runs the fast suite against
this very checkout (nothing is copied), with this virtualenv's interpreter; the user, its group and
everything it wrote are removed afterwards, and the test proves it (issue #26, item 5). The inner
run deselects this test and is told by GUARD that it is the inner one, so it cannot start itself again.
"""
from __future__ import annotations

import fcntl
import grp
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
USER = "chaosunpriv"
BUDGET_S = 90.0
GUARD = "CHAOS_TEST_UNPRIVILEGED_INNER"
SUITES = ("tests/unit", "tests/static")
#: Where a user that cannot write the checkout may still write: searched for its files afterwards.
WRITABLE = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))
SCRATCH_PREFIX = f"{USER}-"
ACCOUNT_FILES = ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid")
PWD_LOCK = "/etc/.pwd.lock"


def _not_reachable(path: Path) -> list[str]:
    """What stops another user from reading `path`: each folder on the way needs o+x, the end o+r."""
    wrong = []
    for end in dict.fromkeys((path.absolute(), Path(os.path.realpath(path)))):  # the link's way and the target's
        wrong += [str(p) for p in reversed(end.parents) if not p.stat().st_mode & stat.S_IXOTH]
        if not end.stat().st_mode & stat.S_IROTH:
            wrong.append(str(end))
    return wrong


def _owned_by(uid: int) -> set[str]:
    """Every file owned by `uid` in the checkout and the places any user may write."""
    roots = [str(p) for p in (REPO, *WRITABLE) if p.exists()]
    out = subprocess.run(["find", *roots, "-xdev", "-uid", str(uid)], capture_output=True, text=True)
    return set(out.stdout.split())  # find's exit status: files removed by others while it looked


def _remove_user() -> None:
    """userdel (it refuses while the user has processes: that is a failure too), its group, and its
    rows in the account files' backups (passwd- ...: the shadow tools' copy of the state before)."""
    _admin("userdel", USER)
    if _exists(grp.getgrnam, USER):
        _admin("groupdel", USER)
    _scrub_backups()


def _admin(*command: str) -> None:
    """An account command; its failure fails the test with the tool's own words."""
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(command)}: exit {proc.returncode}: {proc.stderr.strip()}", pytrace=False)


def _scrub_backups() -> None:
    """USER's rows out of the backups (passwd- ...), which still hold them after userdel."""
    lock = os.open(PWD_LOCK, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)  # as lckpwdf opens it
    try:
        fcntl.lockf(lock, fcntl.LOCK_EX)  # the shadow tools' lock: fcntl over the whole file
        for backup in (Path(f"{path}-") for path in ACCOUNT_FILES):
            if backup.exists() and _naming_user(backup):
                rows = [row for row in backup.read_text().splitlines(keepends=True) if row.split(":")[0] != USER]
                fresh = backup.with_name(f"{backup.name}.{USER}")
                fresh.unlink(missing_ok=True)  # a killed run's
                with os.fdopen(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                    out.write("".join(rows))  # 0600 from the start: shadow- holds password hashes
                info = backup.stat()
                os.chown(fresh, info.st_uid, info.st_gid)
                os.chmod(fresh, stat.S_IMODE(info.st_mode))
                os.replace(fresh, backup)
    finally:
        os.close(lock)  # releases the lock


def _naming_user(path: Path) -> bool:
    """Whether an account file (or its backup) has a row for USER."""
    return path.exists() and any(row.split(":")[0] == USER for row in path.read_text().splitlines())


def _exists(lookup: Callable[[str], object], name: str) -> bool:
    """Whether pwd.getpwnam / grp.getgrnam knows `name`."""
    try:
        lookup(name)
    except KeyError:
        return False
    return True


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """Runs of this test (engineers sharing a machine) take turns: a lock on this very module, so no
    lock file is left behind."""
    with open(__file__, "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _clear_leftovers() -> list[str]:
    """A run killed half-way leaves the user and its scratch folder: this test's own names, removed."""
    left = [str(p) for p in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*")]
    for path in left:
        shutil.rmtree(path)
    if _exists(pwd.getpwnam, USER):
        _remove_user()
        left.append(f"user {USER}")
    elif any(_naming_user(Path(f"{path}-")) for path in ACCOUNT_FILES):
        _scrub_backups()
        left.append(f"{USER}'s rows in the account files' backups")
    return left


def _inner_env(scratch: Path) -> dict[str, str]:
    """A normal user's environment: its own temporary folder and home in the scratch folder, no CI."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch), "TMPDIR": str(scratch),
            "LANG": "C.UTF-8", GUARD: "1"}


def test_fast_suite_passes_as_an_unprivileged_user_on_a_checkout_it_cannot_write(request, figures):
    """The inner run passes within BUDGET_S; the user could not write the checkout; nothing is left."""
    if os.environ.get(GUARD):
        pytest.fail(f"{GUARD} is set: the unprivileged run started itself again", pytrace=False)
    if os.geteuid() != 0:
        pytest.skip("creating a throwaway user needs root (run as a normal user, this run is the unprivileged one)")
    unreachable = [p for path in (Path(sys.executable), Path(sysconfig.get_paths()["purelib"]), REPO / "tests")
                   for p in _not_reachable(path)]
    assert not unreachable, (f"other users cannot reach {unreachable}: "
                             "the services need them too (Makefile: PYTHON=/usr/bin/python3)")
    with _one_at_a_time():
        leftovers = _clear_leftovers()
        _admin("useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
               "--shell", "/usr/sbin/nologin", USER)
        account = pwd.getpwnam(USER)
        uid, gid = account.pw_uid, account.pw_gid
        before = _owned_by(uid)
        scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
        try:
            os.chown(scratch, uid, gid)
            as_user = {"user": uid, "group": gid, "extra_groups": [], "cwd": REPO, "env": _inner_env(scratch)}
            writable = subprocess.run(["test", "-w", str(REPO)], **as_user)
            command = [sys.executable, "-m", "pytest", *SUITES, "-p", "no:cacheprovider", "-q",
                       "--deselect", request.node.nodeid]
            start = time.monotonic()
            inner = subprocess.run(command, capture_output=True, text=True, timeout=600, **as_user)
            elapsed = time.monotonic() - start
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            _remove_user()
        new_files = sorted(_owned_by(uid) - before)

    tail = "\n".join(inner.stdout.splitlines()[-40:])
    line = (f"unprivileged fast suite ({' '.join(SUITES)}) as {USER} (uid {uid}): {elapsed:.1f} s "
            f"(budget {BUDGET_S:.0f} s), exit {inner.returncode}")
    print(line, tail, sep="\n")
    figures.append(line)
    if leftovers:
        figures.append(f"removed a killed run's leftovers first: {', '.join(leftovers)}")
    # Nothing left behind: no account, no group, no scratch folder, no file owned by its uid.
    assert not _exists(pwd.getpwnam, USER) and not _exists(grp.getgrnam, USER)
    assert not scratch.exists() and not Path("/var/mail", USER).exists()
    naming = [str(p) for path in ACCOUNT_FILES for p in (Path(path), Path(f"{path}-")) if _naming_user(p)]
    assert naming == [], f"account files still name {USER}: {naming}"
    assert new_files == [], f"{USER} left files behind: {new_files[:20]}"
    figures.append(f"{USER} left nothing behind: no row in {', '.join(ACCOUNT_FILES)} or their backups, no mail, "
                   f"no scratch folder, no file of uid {uid} in {', '.join(str(p) for p in (REPO, *WRITABLE))}")
    assert writable.returncode == 1, f"{USER} could write {REPO}: the run proves nothing"
    assert inner.returncode == 0, f"{' '.join(command)} failed as {USER}:\n{tail}\n{inner.stderr[-2000:]}"
    assert elapsed < BUDGET_S, f"{line}\n{tail}"
