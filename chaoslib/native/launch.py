"""Start one service: join its cgroup, drop to its user, exec the command.

supervisord runs every service through this launcher, e.g.
    python -m chaoslib.native.launch --cgroup app1 --user chaosapp1 -- gunicorn ...
"""
from __future__ import annotations

import argparse
import os
import pwd
import sys

from ..kernel.cgroups import Cgroups


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chaoslib.native.launch")
    parser.add_argument("--cgroup", default="", help="project cgroup to join")
    parser.add_argument("--user", default="", help="user to run as")
    parser.add_argument("--chdir", default="", help="working directory")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    if args.cgroup:
        cg = Cgroups()
        cg.create(args.cgroup)
        cg.join(args.cgroup, os.getpid())
    for item in args.env:
        key, _, value = item.partition("=")
        os.environ[key] = value
    if args.user:
        entry = pwd.getpwnam(args.user)
        # The user's own groups (the stack's group `chaos` lets it enter the state folder).
        os.setgroups(os.getgrouplist(args.user, entry.pw_gid))
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
        os.environ["HOME"] = "/nonexistent"
        os.environ["USER"] = args.user
    if args.chdir:
        os.chdir(args.chdir)
    try:
        os.execvp(command[0], command)
    except OSError as e:
        print(f"launch: cannot exec {command[0]}: {e}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main()
