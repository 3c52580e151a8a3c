"""The import name `chaoslib` is shared with Chaos Toolkit's library: prove ours is the one loaded."""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

import chaoslib
from chaoslib import guard
from chaoslib.errors import PrerequisiteError

REPO = Path(__file__).resolve().parents[2]


class TestImportName:
    def test_chaoslib_resolves_to_this_repository(self):
        """`import chaoslib` loads the package in this checkout, not a site-packages copy."""
        assert Path(chaoslib.__file__).resolve().parent == REPO / "chaoslib"

    def test_environment_has_no_chaostoolkit_lib(self):
        """The project's own environment never contains chaostoolkit-lib."""
        with pytest.raises(importlib.metadata.PackageNotFoundError):
            importlib.metadata.version("chaostoolkit-lib")

    def test_guard_refuses_when_chaostoolkit_lib_is_present(self, fake_chaostoolkit):
        """chaosctl refuses to run beside chaostoolkit-lib, saying why and what to do."""
        with pytest.raises(PrerequisiteError) as info:
            guard.check_environment()
        line = info.value.one_line()
        assert "chaostoolkit-lib 1.42.0" in line and "separate virtualenv" in line

    def test_cli_prints_one_line(self, fake_chaostoolkit, capsys):
        """The CLI turns the refusal into one line on stderr and exit status 2."""
        from chaoslib.cli import main as cli

        assert cli.main(["status"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("chaosctl: error: chaostoolkit-lib")

    def test_the_guard_passes_once_it_is_gone(self, fake_chaostoolkit, monkeypatch):
        """Without the distribution on the path, the environment checks out."""
        import sys

        assert guard.conflicting_distribution() == "1.42.0"
        monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(fake_chaostoolkit)])
        assert guard.conflicting_distribution() is None
        guard.check_environment()


@pytest.fixture
def fake_chaostoolkit(tmp_path, monkeypatch):
    """A real installed-distribution record of chaostoolkit-lib 1.42.0 (a .dist-info folder) on sys.path.

    That is how importlib.metadata finds an installed package; nothing of Chaos Toolkit is imported.
    """
    info = tmp_path / "chaostoolkit_lib-1.42.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: chaostoolkit-lib\nVersion: 1.42.0\n")
    (info / "top_level.txt").write_text("chaoslib\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path
