"""The compose database's sessions: pg_stat_activity read and ended by exec, a fault's holder as a container.

Reads and ends run `psql` as the superuser inside the postgres container (the Engine API's exec,
over the container's own socket): the superuser's reserved slots work while a fault fills every
other one, and nothing is published or addressed from the host. A holder is the native one
(chaoslib.native.db_holder, shipped in the app image) run as a container of its own from the
replicas' image, on their network, logged in with the replicas' DATABASE_URL (the app's role) and
the same realistic application_name (holder_name). It is labelled with the fault's key, so undo,
panic's sweep, `down` and the footprint find exactly it; restarting the replicas leaves it be.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from chaoslib import config
from chaoslib.backends.base import (
    DATABASE,
    HOLDER_KINDS,
    DbSession,
    check_holder,
    check_one_session,
    holder_key,
    holder_name,
    no_session,
)
from chaoslib.backends.docker.engine import (
    DB_HOLDER_LABEL,
    DB_SUPERUSER,
    HELPER_PROJECT_LABEL,
    POSTGRES_PORT,
    docker_sdk,
)
from chaoslib.backends.docker.helpers import DockerHelpers
from chaoslib.errors import ServiceError, UsageError
from chaoslib.native import pg_sessions

if TYPE_CHECKING:  # the docker SDK is loaded when the engine is first used (engine.docker_sdk)
    from docker.models.containers import Container

#: How long starting a holder waits for its sessions (the idle one races the replicas for FILL_S at most).
HOLD_WAIT_S = 25.0
#: Seconds a psql by exec may take before `timeout` ends it.
PSQL_TIMEOUT_S = 15
#: A holder is one small Python process (psycopg): its container's memory limit.
HOLDER_MEMORY = "128m"


class DockerDatabase(DockerHelpers):
    """start_db_holder/stop_db_holder/db_holders/db_activity/terminate_db_backend over exec and holder containers."""

    def _db_if_running(self) -> Container | None:
        return self._containers(running_only=True).get(DATABASE)

    def _db(self) -> Container:
        c = self._db_if_running()
        if c is None:
            raise ServiceError(DATABASE, "is not running", hint="see `chaosctl status`")
        return c

    def _psql(self, sql: str, *, db: Container | None = None) -> list[list[str]]:
        """One statement as the superuser, by exec in the postgres container (`db`, else looked up); its rows."""
        argv = ["timeout", str(PSQL_TIMEOUT_S), "psql", "-X", "-U", DB_SUPERUSER, "-d", config.DB_NAME,
                "-v", "ON_ERROR_STOP=1", "-qAt", "-F", pg_sessions.SEP, "-c", sql]
        try:
            res = (db or self._db()).exec_run(argv, user="postgres", demux=True)
        except docker_sdk().errors.DockerException as e:
            raise self._api_error("psql in postgres", e) from e
        pair = res.output if isinstance(res.output, tuple) else (res.output, None)  # demuxed: (stdout, stderr)
        out, err = (part if isinstance(part, bytes) else b"" for part in pair)
        if res.exit_code == 124:
            raise ServiceError(DATABASE, f"psql did not answer in {PSQL_TIMEOUT_S} s")
        if res.exit_code != 0:
            why = (err or out).decode("utf-8", "replace").strip().splitlines()[-1:] or [str(res.exit_code)]
            raise ServiceError(DATABASE, f"psql as {DB_SUPERUSER} failed: {why[0]}",
                               hint="a database volume from before the app had a role of its own: "
                                    "`chaosctl down --purge`, then `chaosctl up`" if "does not exist" in why[0] else "")
        return [line.split(pg_sessions.SEP) for line in out.decode("utf-8", "replace").splitlines() if line]

    def db_activity(self) -> list[DbSession]:
        return pg_sessions.sessions(self._psql(pg_sessions.ACTIVITY_SQL))

    def db_max_connections(self) -> int:
        return int(self._psql(pg_sessions.MAX_CONNECTIONS_SQL)[0][0])

    def terminate_db_backend(self, *, pid: int | None = None, application_name: str | None = None) -> list[int]:
        check_one_session(pid, application_name)
        ended = pg_sessions.terminate_with(self._psql, pid=pid, application_name=application_name)
        if pid is not None and not ended:
            raise no_session(pid)
        return ended

    # -- holders ---------------------------------------------------------------------------------
    def _db_holder_containers(self, key: str | None = None) -> list[Container]:
        """This project's holder containers (running or not), of `key` or of every fault."""
        label = f"{DB_HOLDER_LABEL}={key}" if key else DB_HOLDER_LABEL
        try:
            found = self.client.containers.list(all=True, ignore_removed=True, filters={
                "label": [label, f"{HELPER_PROJECT_LABEL}={self.project}"]})
        except docker_sdk().errors.DockerException as e:
            raise self._api_error("listing the database holders", e) from e
        return sorted(found, key=lambda c: c.name or "")

    def _holder_env(self, replica: Container, db: Container) -> dict[str, str]:
        """libpq's variables from the replica's DATABASE_URL (the app's role), at the database's address."""
        env = dict(e.split("=", 1) for e in replica.attrs.get("Config", {}).get("Env") or [] if "=" in e)
        url = env.get("DATABASE_URL", "")
        parts = urlsplit(url)
        if not parts.username or not parts.path.strip("/"):
            raise ServiceError(replica.name or "replica", "has no DATABASE_URL to log the holder in with")
        return {"PGHOST": self._ip(db, replica), "PGPORT": str(parts.port or POSTGRES_PORT),
                "PGDATABASE": parts.path.strip("/"), "PGUSER": unquote(parts.username),
                "PGPASSWORD": unquote(parts.password or ""), "PYTHONUNBUFFERED": "1"}

    def start_db_holder(self, *, key: str, kind: str, amount: int) -> None:
        check_holder(key, kind, amount)
        targets = self.targets() if self.is_up() else []
        if not targets:
            raise UsageError("the stack is not running", hint="start it with `chaosctl up`")
        replica, db = self._replica(targets[0]), self._db()
        shared = sorted(n for n in self._networks(db) if n in self._networks(replica))
        if not shared:
            raise ServiceError(DATABASE, f"shares no network with {targets[0]}", hint="see `chaosctl status`")
        self.stop_db_holder(key=key)  # a container of the same name left by a crashed run would refuse it
        name = holder_name(key, kind)
        docker = docker_sdk()
        try:
            holder = self._start_helper(
                str(replica.attrs.get("Image", "")),  # the replicas' image (it ships chaoslib)
                ["python", "-m", pg_sessions.MODULE, "--key", key, "--kind", kind, "--amount", str(amount),
                 "--name", name], name=f"{self.project}-{name}", environment=self._holder_env(replica, db),
                network=shared[0], labels={DB_HOLDER_LABEL: key, HELPER_PROJECT_LABEL: self.project},
                mem_limit=HOLDER_MEMORY, restart_policy={"Name": "no"})
        except docker.errors.DockerException as e:
            raise self._api_error(f"starting the database holder of {key}", e) from e

        def alive() -> bool:
            try:
                holder.reload()
            except docker.errors.NotFound:
                return False
            return holder.status == "running"

        if not pg_sessions.wait_sessions(self.db_activity, alive, key, kind, timeout=HOLD_WAIT_S):
            try:
                tail = holder.logs(tail=1).decode("utf-8", "replace").strip() or "no log"
            except docker.errors.DockerException:
                tail = "no log"
            raise UsageError(f"the database holder of {key} holds no session: {tail}",
                             hint="see `chaosctl logs postgres`")

    def stop_db_holder(self, *, key: str) -> list[str]:
        """End the holder's container (TERM, then KILL; then removed), then its sessions by name."""
        done: list[str] = []
        docker = docker_sdk()
        for c in self._db_holder_containers(key):
            try:
                if c.status == "running":
                    c.stop(timeout=3)
                c.remove(force=True)
            except docker.errors.NotFound:
                continue
            except docker.errors.DockerException as e:
                raise self._api_error(f"removing the database holder of {key}", e) from e
            done.append(f"stopped the database holder of {key} (container {c.short_id})")
        db = self._db_if_running()
        if db is not None:  # a database that is down has no session; one lookup serves every psql below
            psql = functools.partial(self._psql, db=db)
            for kind in HOLDER_KINDS:
                ended = pg_sessions.terminate_with(psql, application_name=holder_name(key, kind))
                if ended:
                    done.append(f"ended {len(ended)} session(s) of {holder_name(key, kind)}")
        return done

    def db_holders(self) -> list[str]:
        keys = {c.labels.get(DB_HOLDER_LABEL, "") for c in self._db_holder_containers()} - {""}
        db = self._db_if_running()
        if db is not None:
            rows = pg_sessions.sessions(self._psql(pg_sessions.ACTIVITY_SQL, db=db))
            keys |= {k for r in rows if (k := holder_key(r.application_name))}
        return sorted(keys)
