"""The local backend: the whole stack as plain Linux processes under supervisord.

Each service runs as its own unprivileged user on its own loopback address; each app
replica has its own cgroup and its own size-limited tmpfs. Faults use the project's own
nftables table, cgroups and disks, so nothing else on the host is ever touched. One module
per area of the contract (lifecycle, network, disks, limits, logs, safety), as in docker/.
"""
from chaoslib.backends.local.backend import LocalBackend

__all__ = ["LocalBackend"]
