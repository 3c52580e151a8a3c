"""The docker backend's database primitives on a fake engine: psql by exec as the superuser, holders by label."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from chaoslib.backends.docker import DockerBackend
from chaoslib.backends.docker.engine import DB_HOLDER_LABEL, DB_SUPERUSER, HELPER_PROJECT_LABEL
from chaoslib.config import REPO_ROOT, Settings
from chaoslib.errors import ServiceError, UsageError
from chaoslib.native import pg_sessions

SEP = pg_sessions.SEP
HOLDER_ROW = SEP.join(["4242", "tally-batch-f-1a2b3c", "polls", "idle in transaction", "31.5", "Client:ClientRead",
                       "", "SELECT c.id FROM polls_choice c"])
REPLICA_ROW = SEP.join(["4300", "app1", "polls", "active", "1.9", "Lock:transactionid", "4242", "UPDATE polls_choice"])


class FakePostgres:
    """The postgres container: every exec is a psql, answered from `answers` (first matching SQL fragment)."""

    def __init__(self, answers: dict[str, tuple[int, str, str]]) -> None:
        self.answers, self.execs = answers, []
        self.labels = {"com.docker.compose.service": "postgres"}
        self.attrs = {"NetworkSettings": {"Networks": {"chaos-control": {"IPAddress": "172.29.0.2"}}}}

    def exec_run(self, argv, user=None, demux=False):
        self.execs.append((argv, user))
        sql = argv[argv.index("-c") + 1]
        code, out, err = next((v for k, v in self.answers.items() if k in sql), (0, "", ""))
        return SimpleNamespace(exit_code=code, output=(out.encode(), err.encode()))


class FakeHolder:
    def __init__(self, key: str, project: str = "chaos-control") -> None:
        self.labels = {DB_HOLDER_LABEL: key, HELPER_PROJECT_LABEL: project}
        self.name, self.short_id, self.status, self.removed = f"holder-{key}", key[-6:], "running", False

    def stop(self, timeout):
        self.status = "exited"

    def remove(self, force):
        self.removed = True


class FakeClient:
    def __init__(self, holders: list[FakeHolder]) -> None:
        self.holders = holders
        self.containers = SimpleNamespace(list=self._list)

    def _list(self, all, ignore_removed, filters):  # noqa: A002 - the SDK's keyword
        wanted = dict(f.split("=", 1) if "=" in f else (f, None) for f in filters["label"])
        return [h for h in self.holders if not h.removed and all_match(h.labels, wanted)]


def all_match(labels: dict[str, str], wanted: dict[str, str | None]) -> bool:
    return all(k in labels and (v is None or labels[k] == v) for k, v in wanted.items())


@pytest.fixture
def docker_db(monkeypatch, tmp_path):
    pg = FakePostgres({"FROM pg_stat_activity WHERE datname": (0, f"{HOLDER_ROW}\n{REPLICA_ROW}\n", ""),
                       "max_connections": (0, "97\n", "")})
    monkeypatch.setattr(DockerBackend, "_containers", lambda self, running_only=False: {"postgres": pg})
    holders = [FakeHolder("f-1a2b3c"), FakeHolder("f-999999"), FakeHolder("f-777777", project="another")]
    backend = DockerBackend(Settings(state_dir=tmp_path / "state"), project="chaos-control",
                            client=FakeClient(holders))
    return backend, pg, holders


def test_activity_is_pg_stat_activity_read_by_the_superuser_in_the_container(docker_db):
    backend, pg, _ = docker_db
    rows = backend.db_activity()
    assert [(r.pid, r.application_name, r.state, r.blocked_by) for r in rows] == [
        (4242, "tally-batch-f-1a2b3c", "idle in transaction", ()), (4300, "app1", "active", (4242,))]
    argv, user = pg.execs[-1]
    assert argv[argv.index("-U") + 1] == DB_SUPERUSER and user == "postgres" and argv[:2] == ["timeout", "15"]
    assert argv[argv.index("-c") + 1] == pg_sessions.ACTIVITY_SQL
    assert backend.db_max_connections() == 97


def test_a_failing_psql_is_one_line_and_a_volume_without_the_superuser_says_what_to_do(docker_db):
    backend, pg, _ = docker_db
    pg.answers = {"pg_stat_activity": (2, "", 'psql: error: FATAL:  role "postgres" does not exist\n')}
    with pytest.raises(ServiceError) as e:
        backend.db_activity()
    assert "does not exist" in e.value.one_line() and "down --purge" in e.value.one_line()
    pg.answers = {"pg_stat_activity": (124, "", "")}
    with pytest.raises(ServiceError, match="did not answer in 15 s"):
        backend.db_activity()


def test_stop_ends_that_faults_container_and_sessions_and_nothing_else(docker_db):
    backend, pg, holders = docker_db
    pg.answers["WITH chosen"] = (0, "4242\n", "")
    done = backend.stop_db_holder(key="f-1a2b3c")
    assert holders[0].removed and not holders[1].removed and not holders[2].removed
    assert done[0].startswith("stopped the database holder of f-1a2b3c")
    ended = [argv[argv.index("-c") + 1] for argv, _ in pg.execs if "WITH chosen" in argv[argv.index("-c") + 1]]
    assert len(ended) == 2 and "'tally-batch-f-1a2b3c'" in ended[0] and "'report-pool-f-1a2b3c'" in ended[1]
    assert backend.db_holders() == ["f-1a2b3c", "f-999999"]  # another project's holder is not ours


def test_terminate_names_one_session(docker_db):
    backend, pg, _ = docker_db
    with pytest.raises(UsageError, match="a pid or an application_name"):
        backend.terminate_db_backend()
    with pytest.raises(UsageError, match="no database session with pid 5"):
        backend.terminate_db_backend(pid=5)


def test_the_holder_logs_in_as_the_app_at_the_databases_address(docker_db):
    backend, pg, _ = docker_db
    replica = SimpleNamespace(name="app1", attrs={
        "Config": {"Env": ["DATABASE_URL=postgres://polls:s%40cret@postgres:5432/polls", "TZ=UTC"]},
        "NetworkSettings": {"Networks": {"chaos-control": {"IPAddress": "172.29.0.11"}}}})
    env = backend._holder_env(replica, pg)
    assert env == {"PGHOST": "172.29.0.2", "PGPORT": "5432", "PGDATABASE": "polls", "PGUSER": "polls",
                   "PGPASSWORD": "s@cret", "PYTHONUNBUFFERED": "1"}


def test_compose_runs_the_app_and_the_exporter_as_roles_that_are_not_the_superuser():
    """The superuser the backend execs psql as is compose's POSTGRES_USER; the app's role is made NOSUPERUSER
    (else a client filling the slots could not lock the app out, and the superuser's reserved slots were taken)."""
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    assert services["postgres"]["environment"]["POSTGRES_USER"] == DB_SUPERUSER
    roles = " ".join(services["db-roles"]["command"])
    assert "ALTER ROLE polls WITH LOGIN NOSUPERUSER" in roles and "ALTER DATABASE polls OWNER TO polls" in roles
    assert services["app1"]["environment"]["DATABASE_URL"].startswith("postgres://polls:")
    assert services["db-roles"]["environment"]["PGUSER"] == DB_SUPERUSER


def test_docker_has_the_database_sessions_feature(monkeypatch, tmp_path):
    """So the draw deals the database family under Docker, and inject no longer refuses it."""
    monkeypatch.setattr(DockerBackend, "_probe_netem", lambda self: False)
    assert DockerBackend(Settings(state_dir=tmp_path), client=object()).features.database_sessions
