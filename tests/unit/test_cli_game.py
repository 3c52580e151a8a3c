"""The terminal game's commands: usage errors are one line and exit 2, --json prints records, and a whole
game plays through `chaosctl` on the in-memory backend (no root, no stack)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chaoslib import config
from chaoslib.cli.game import parse_finding, parse_value
from chaoslib.cli.main import main
from chaoslib.errors import UsageError
from chaoslib.game import Finding, Game

REPO = Path(__file__).resolve().parents[2]


def chaosctl(*argv: str, state: Path) -> subprocess.CompletedProcess:
    """`chaosctl` as a user runs it, on an empty state directory (no stack, no game)."""
    return subprocess.run([sys.executable, "-m", "chaoslib.cli", "--state-dir", str(state), *argv],
                          capture_output=True, text=True, timeout=60, cwd=REPO)


@pytest.fixture
def local(tmp_path, capsys):
    """`chaosctl ARGS` run in this process on an empty state directory: a CompletedProcess of it."""
    def run(*argv: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        try:
            code = main(["--state-dir", str(tmp_path), *argv])
        except SystemExit as e:  # argparse's own usage errors
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out, err)
    return run


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chaosctl: error: "), proc.stderr
    assert proc.stdout == ""
    return lines[0]


class TestUsageErrors:
    def test_a_malformed_finding_from_the_shell_is_one_line_and_exit_2(self, tmp_path):
        """As a user runs it: a new process, nothing on stdout, one line on stderr."""
        line = one_line_error(chaosctl("hypothesis", "--finding", "disk", "--evidence", "x", state=tmp_path))
        assert line == ("chaosctl: error: --finding takes FAMILY:REPLICA[,REPLICA], got 'disk' "
                        "(a fault family, a colon, the replicas it affects separated by commas)")

    @pytest.mark.parametrize("finding", ["disk:", ":app1", "disk:,", "", "disk app1"])
    def test_every_malformed_finding_is_refused(self, local, finding):
        line = one_line_error(local("hypothesis", "--finding", finding))
        assert "FAMILY:REPLICA" in line and repr(finding) in line

    def test_an_unknown_fix_lists_the_fixes(self, local):
        line = one_line_error(local("fix", "reboot-the-world", "--target", "app1"))
        assert "unknown fix 'reboot-the-world'" in line and "restart" in line

    def test_an_argument_a_fix_does_not_take_is_refused_before_it_runs(self, local):
        line = one_line_error(local("fix", "restart", "--target", "app1", "--arg", "force=true"))
        assert "force" in line and "its arguments: target" in line

    def test_a_malformed_arg_and_arguments_without_a_fix(self, local):
        assert "KEY=VALUE" in one_line_error(local("fix", "restart", "--arg", "cpu"))
        assert "name the fix" in one_line_error(local("fix", "--target", "app1"))
        assert "not both" in one_line_error(local("fix", "restart", "--show", "disk-files"))
        assert "--evidence goes with" in one_line_error(local("hypothesis", "--evidence", "a hunch"))

    def test_an_unknown_view_lists_the_views(self, local, memory_stack):
        line = one_line_error(local("fix", "--show", "everything"))
        views = [v.name for v in Game(memory_stack).views()]
        assert views and all(v in line for v in views)

    @pytest.mark.parametrize("argv", [["hint"], ["hypothesis"], ["score"], ["give-up"], ["validate", "--json"],
                                      ["page"]])
    def test_no_game_is_one_line(self, local, argv):
        assert "no game" in one_line_error(local(*argv))

    def test_argparse_usage_errors_exit_2_too(self, local):
        proc = local("validate", "--window", "soon")
        assert proc.returncode == 2 and "invalid float value" in proc.stderr


def test_the_readme_gives_the_commands_and_the_exit_codes():
    """The README's "Playing in the terminal": every game command, and one row per exit status."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Playing in the terminal"):]
    section = section[:section.index("\n## ")]
    for command in ("play", "page", "hint", "hypothesis", "fix", "validate", "score", "give-up"):
        assert f"chaosctl {command}" in section, command
    rows = [line for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [row[2] for row in rows] == ["0", "1", "2"]
    assert "validation failed" in rows[1] and "usage error" in rows[2]


class TestParsing:
    def test_findings(self):
        assert parse_finding("disk:app2") == Finding("disk", ("app2",))
        assert parse_finding(" network : app1, app3 ") == Finding("network", ("app1", "app3"))
        with pytest.raises(UsageError):
            parse_finding("network app1")

    def test_values_are_typed_as_written(self):
        assert [parse_value(v) for v in ("512", "0.5", "true", "False", "app2")] == [512, 0.5, True, False, "app2"]
        assert type(parse_value("1")) is int


class TestJson:
    def test_fix_lists_fixes_and_views_as_records(self, tmp_path, memory_stack):
        proc = chaosctl("fix", "--json", state=tmp_path)  # as a user runs it
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert set(data) == {"fixes", "views"}
        game = Game(memory_stack)
        assert data["fixes"] == [f.to_dict() | {"arguments": list(f.arguments)} for f in game.fixes()]
        assert {v["name"] for v in data["views"]} == {v.name for v in game.views()}
        for row in data["fixes"] + data["views"]:
            assert set(row) == {"name", "description", "arguments"} and row["description"]

    def test_the_text_listing_names_every_fix_and_view(self, local, memory_stack):
        proc = local("fix")
        assert proc.returncode == 0, proc.stderr
        first_words = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
        game = Game(memory_stack)
        assert {f.name for f in game.fixes()} | {v.name for v in game.views()} <= first_words


def _json(result: tuple[int, str, str], code: int = 0):
    assert result[0] == code, result
    return json.loads(result[1])


class TestAGameOnTheMemoryBackend:
    def test_a_whole_game_won_from_the_terminal(self, cli, memory_stack):
        """play, page, hypothesis, fix (a view, then the fix), validate, score: every answer as JSON."""
        info = _json(cli("play", "--seed", "4", "--difficulty", "easy", "--families", "disk", "--json"))
        assert info["seed"] == 4 and info["status"] == "playing"
        assert _json(cli("page", "--json"), code=1) is None  # the memory backend has no pager
        ((family, targets),) = Game(memory_stack).truth().items()  # a unit test may peek at the truth
        target = targets[0]
        finding = f"{family}:{','.join(targets)}"
        hyp = _json(cli("hypothesis", "--finding", finding, "--evidence", "disk 100 % used", "--json"))
        assert hyp["version"] == 1 and hyp["findings"] == [{"family": family, "targets": targets}]
        assert [h["version"] for h in _json(cli("hypothesis", "--json"))] == [1]
        files = _json(cli("fix", "--show", "disk-files", "--target", target, "--json"))
        assert files and set(files[0]) == {"path", "size_mib", "modified"}
        junk = [f["path"] for f in files if not config.is_app_file(f["path"])]
        not_yet = _json(cli("validate", "--window", "0", "--recover", "0", "--json"), code=1)
        assert not not_yet["passed"] and not_yet["problems"]
        argv = ["fix", "delete_files", "--target", target] + [a for p in junk for a in ("--path", p)]
        done = _json(cli(*argv, "--json"))
        assert done == {"name": "delete_files", "arguments": {"target": target, "paths": junk}, "result": len(junk)}
        cli("fix", "restart", "--target", target)  # a crash-looped replica needs it; a running one minds not
        code, out, err = cli("validate", "--window", "0")
        assert code == 0 and out.startswith("validated"), (out, err)
        outcome = _json(cli("score", "--no-plots", "--json"))
        assert outcome["score"]["diagnosis_correct"] and outcome["score"]["time_to_recover_s"] is not None
        assert [(f["family"], f["targets"]) for f in outcome["faults"]] == [(family, targets)]
        assert Path(outcome["postmortem"]).exists()
        code, out, _ = cli("score", "--no-plots")  # asked again: the same reveal, in words
        assert code == 0 and "The incident was:" in out and f"({family}) on {', '.join(targets)}" in out
        assert "The score:" in out and "The postmortem: " in out

    def test_give_up_reveals_and_scores_the_loss(self, cli, memory_stack):
        cli("play", "--seed", "2", "--families", "resources")
        code, out, _ = cli("hint")
        assert code == 0 and out.startswith("hint 1 (costs 10 points): ")
        assert _json(cli("hint", "--json"))["level"] == 2
        outcome = _json(cli("give-up", "--json"))
        score = outcome["score"]
        assert not score["diagnosis_correct"] and score["time_to_recover_s"] is None and score["hints_used"] == 2
        assert outcome["faults"][0]["family"] == "resources" and outcome["faults"][0]["strength"]
        assert Game(memory_stack).info().status == "finished"

    def test_a_fix_with_numbers_and_a_view_without_arguments(self, cli, memory_stack):
        cli("play", "--seed", "7", "--families", "resources")
        done = _json(cli("fix", "set_limits", "--target", "app1", "--arg", "cpu=1", "--arg", "memory_mb=512",
                         "--json"))
        assert done["result"] == {"cpu": 1, "memory": 512 * 2**20}
        assert _json(cli("fix", "--show", "firewall-rules", "--json")) == []
        code, out, _ = cli("fix", "--show", "firewall-rules")
        assert code == 0 and "nothing to show" in out
