"""Root never follows a link on a replica's disk: planted links change nothing outside it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from chaoslib.errors import FaultError
from chaoslib.kernel import disks


@pytest.fixture
def host(tmp_path):
    """A disk folder and, beside it, a 'host' file and folder that links on the disk point to."""
    disk = tmp_path / "disk"
    outside = tmp_path / "outside"
    (disk / "journal").mkdir(parents=True)
    (disk / "journal" / "writes.jsonl").write_text("app data\n")
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0\n")
    (outside / "sub").mkdir()
    (outside / "sub" / "keep.txt").write_text("keep\n")
    return disk, outside


def _snapshot(outside: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(outside)): (p.read_bytes() if p.is_file() else b"", p.stat().st_mode)
            for p in sorted(outside.rglob("*"))}


def test_junk_at_a_link_to_a_file_is_refused(host):
    """Junk written at a name that is a link to a host file fails and leaves the file as it was."""
    disk, outside = host
    before = _snapshot(outside)
    os.symlink(outside / "passwd", disk / "junk.bin")
    with pytest.raises(FaultError):
        disks.write_junk(disk, "junk.bin", 4096, tag="f-1")
    assert _snapshot(outside) == before
    assert not os.path.exists(outside / "passwd.bin")


def test_junk_under_a_link_to_a_folder_is_refused(host):
    """Junk under a folder name that is a link to a host folder creates nothing there."""
    disk, outside = host
    before = _snapshot(outside)
    os.symlink(outside / "sub", disk / "cache")
    with pytest.raises(FaultError):
        disks.write_junk(disk, "cache/junk.bin", 4096, tag="f-1")
    assert _snapshot(outside) == before


def test_listing_and_sweeping_never_enter_links(host):
    """Links to a folder and to a file are listed as links, never walked, never tagged as junk."""
    disk, outside = host
    if _xattrs(outside):  # the host file looks like junk: only following the link would find it
        os.setxattr(outside / "passwd", disks.JUNK_XATTR, b"f-x")
    os.symlink(outside / "sub", disk / "dirlink")
    os.symlink(outside / "passwd", disk / "filelink")
    listed = {f.path for f in disks.list_files(disk)}
    assert "filelink" in listed and not any(p.startswith("dirlink/") for p in listed)
    assert "filelink" not in disks.tagged_junk(disk)


def test_deleting_a_listed_link_removes_the_link_only(host):
    """Deleting a listed name that is a link to a host file removes the link, not the file."""
    disk, outside = host
    before = _snapshot(outside)
    os.symlink(outside / "passwd", disk / "big.log")
    assert disks.remove_file(disk, "big.log") is True
    assert not os.path.lexists(disk / "big.log")
    assert _snapshot(outside) == before


def test_folder_swapped_for_a_link_between_listing_and_deleting(host):
    """A folder replaced by a link to a host folder after the listing: nothing outside is deleted."""
    disk, outside = host
    (disk / "cache").mkdir()
    (disk / "cache" / "keep.txt").write_text("junk\n")
    assert "cache/keep.txt" in {f.path for f in disks.list_files(disk)}
    before = _snapshot(outside)
    (disk / "cache" / "keep.txt").unlink()
    (disk / "cache").rmdir()
    os.symlink(outside / "sub", disk / "cache")
    assert disks.remove_file(disk, "cache/keep.txt") is False
    assert _snapshot(outside) == before


def test_disk_root_replaced_by_a_link_is_not_followed(host):
    """When the disk folder itself is a link, listing and deleting do nothing outside."""
    disk, outside = host
    before = _snapshot(outside)
    fake = disk.parent / "fake-disk"
    os.symlink(outside, fake)
    assert disks.list_files(fake) == [] and disks.tagged_junk(fake) == []
    assert disks.remove_file(fake, "passwd") is False
    assert _snapshot(outside) == before


def test_real_junk_still_works(host):
    """Junk on the disk itself is written, tagged, found and removed with its empty folders."""
    disk, _ = host
    assert disks.write_junk(disk, "a/b/junk.bin", 8192, tag="f-1") == 8192
    if _xattrs(disk):
        assert disks.tagged_junk(disk) == ["a/b/junk.bin"]
    assert disks.remove_file(disk, "a/b/junk.bin") and not (disk / "a").exists()
    assert (disk / "journal" / "writes.jsonl").exists()


def _xattrs(path: Path) -> bool:
    try:
        os.setxattr(path, "user.probe", b"1")
        os.removexattr(path, "user.probe")
        return True
    except OSError:
        return False
