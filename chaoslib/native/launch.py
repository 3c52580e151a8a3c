"""Start one service: join its cgroup, drop to its user, exec the command.

supervisord runs every service through this launcher, e.g.
    python -m chaoslib.native.launch --cgroup app1 --user chaosapp1 -- gunicorn ...
"""
from __future__ import annotations

import argparse
import os
import pwd
import shutil
import sys

from chaoslib import config
from chaoslib.kernel.cgroups import Cgroups


def drop_cached_pages(path: str) -> None:
    """Drop a file's clean, unmapped pages from the page cache (best effort, never fails).

    A large Go binary that is wholly in the page cache (just installed: pip writes Traefik's
    185 MB in large folios) is mapped a folio at a time around every page its process touches:
    Traefik's resident binary was 136 MiB so, 78 MiB when it read its own pages from disk
    (issue #15, measured on kernel 6.18). Pages other processes map are never dropped.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chaoslib.native.launch")
    parser.add_argument("--cgroup", default="", help="project cgroup to join")
    parser.add_argument("--user", default="", help="user to run as")
    parser.add_argument("--chdir", default="", help="working directory")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--cold-binary", action="store_true",
                        help="drop the executable's clean pages from the page cache before exec")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    if args.cgroup:
        cg = Cgroups()
        cg.create(args.cgroup)
        cg.join(args.cgroup, os.getpid())
    env = config.environment(**dict(item.partition("=")[::2] for item in args.env))
    if args.user:
        entry = pwd.getpwnam(args.user)
        # The user's own groups (the stack's group `chaos` lets it enter the state folder).
        os.setgroups(os.getgrouplist(args.user, entry.pw_gid))
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
        env.update(HOME="/nonexistent", USER=args.user)
    if args.chdir:
        os.chdir(args.chdir)
    if args.cold_binary:
        drop_cached_pages(shutil.which(command[0]) or command[0])
    try:
        os.execvpe(command[0], command, env)
    except OSError as e:
        print(f"launch: cannot exec {command[0]}: {e}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main()
