"""pollapp tests run against a real, throwaway PostgreSQL cluster (initdb in a temp dir)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import django
import pytest

from .gunicorn_proc import free_port, tmpfs_disk

#: What pollapp.settings reads from the environment, set only while Django loads it (once, at
#: collection) and restored at once: nothing leaks into the rest of the session or its subprocesses.
#: DATA_DIR is a per-session tmp dir (`_session_data_dir`) and each test that writes takes its own.
SETTINGS_ENV = {"DJANGO_SETTINGS_MODULE": "pollapp.settings", "SECRET_KEY": "test-secret-key",
                "REPLICA_NAME": "apptest", "DATA_DIR": "/nonexistent/pollapp-data",
                "DATABASE_URL": "postgres://polls:polls@127.0.0.1:1/polls"}

with pytest.MonkeyPatch.context() as _env:
    for _key, _value in SETTINGS_ENV.items():
        if _key not in os.environ:
            _env.setenv(_key, _value)
    django.setup()


@pytest.fixture(scope="session", autouse=True)
def _session_data_dir(tmp_path_factory):
    """DATA_DIR for the tests that take no `data_dir` of their own: a pytest tmp dir, not a leftover in /tmp."""
    from django.conf import settings

    before, settings.DATA_DIR = settings.DATA_DIR, tmp_path_factory.mktemp("pollapp-data")
    yield settings.DATA_DIR
    settings.DATA_DIR = before


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@pytest.fixture(scope="session")
def throwaway_postgres():
    """A fresh PostgreSQL on 127.0.0.1 and a free port, with a role that may create databases."""
    from chaoslib.native import postgres as pg
    from chaoslib.native.users import ensure_user

    bindir = pg.bin_dir()
    root = Path(tempfile.mkdtemp(prefix="pollapp-pg-"))
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root
        user = "chaosdb"
        uid, gid = ensure_user(user)
        os.chown(root, uid, gid)
    data, sock = root / "data", root / "sock"
    subprocess.run(_as_user(["mkdir", str(sock)], user), check=True)
    subprocess.run(_as_user([str(bindir / "initdb"), "-D", str(data), "--auth=trust", "--username=postgres",
                             "--no-instructions", "--encoding=UTF8", "--locale=C.UTF-8"], user),
                   check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(_as_user([str(bindir / "postgres"), "-D", str(data), "-c", "listen_addresses=127.0.0.1",
                                      "-c", f"port={port}", "-c", f"unix_socket_directories={sock}",
                                      "-c", "fsync=off", "-c", "shared_buffers=16MB"], user),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    psql = _as_user([str(bindir / "psql") if (bindir / "psql").exists() else "psql", "-h", str(sock), "-p",
                     str(port), "-U", "postgres", "-d", "postgres", "-qAt", "-c"], user)
    deadline = time.time() + 30
    while subprocess.run(psql + ["SELECT 1"], capture_output=True).returncode != 0:
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("the throwaway PostgreSQL did not start")
        time.sleep(0.2)
    subprocess.run(psql + ["CREATE ROLE polls LOGIN CREATEDB PASSWORD 'polls'"], check=True, capture_output=True)
    yield {"HOST": "127.0.0.1", "PORT": str(port), "USER": "polls", "PASSWORD": "polls"}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(throwaway_postgres, django_db_modify_db_settings_parallel_suffix):
    """Point Django at the throwaway cluster before the test database is created."""
    from django.conf import settings

    settings.DATABASES["default"].update(throwaway_postgres)


@pytest.fixture
def data_dir(tmp_path, settings):
    """A private DATA_DIR for one test."""
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def full_disk(tmp_path, settings):
    """DATA_DIR on a real 1 MiB tmpfs filled to the last byte (root only); unmounted after."""
    with tmpfs_disk(tmp_path / "disk", "1m") as mnt:
        (mnt / "journal").mkdir()
        with open(mnt / "junk.bin", "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        settings.DATA_DIR = mnt
        yield mnt


@pytest.fixture
def poll(db):
    """A poll with three choices."""
    from pollapp.polls.models import Choice, Question

    q = Question.objects.create(question_text="Tabs or spaces?")
    for text in ("Tabs", "Spaces", "Both"):
        Choice.objects.create(question=q, choice_text=text)
    return q
