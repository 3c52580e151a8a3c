"""The docker backend: the stack as Docker Compose containers, faults through the Engine API only.

One module per area of the contract (lifecycle, network, disks, limits, logs, safety), as in local/.

Containers are found by their compose labels (project `chaos-control`, or
$CHAOSCTL_COMPOSE_PROJECT): the replicas are the services app1, app2, ...; the database
is `postgres`; the load balancer is `traefik`.

- Network faults run the native backend's nftables rules (chaoslib.kernel.nft builds the
  text) in the project's own table `inet chaos`, inside a container's network namespace,
  from a short-lived helper container (`network_mode=container:<id>`, NET_ADMIN, labelled
  `chaos-control.helper=1`, removed once it exits). A rule lives on the side that is not
  the fault's target, so restarting the target does not undo it: load balancer -> replica
  rules in the load balancer's namespace (output chain, by destination address), replica
  -> database rules in the database's namespace (input chain, by source address).
- Disks: a replica's /data is a size-limited tmpfs; junk is written, listed and removed
  with `exec` in the replica (the image ships chaoslib.kernel.disks, the same code the
  native backend uses), tagged with the same user xattr. Docker recreates a tmpfs when a
  container starts: unlike the native disks, a restart empties it.
- Limits: `POST /containers/{id}/update` (CPU quota/period, or NanoCpus when the
  container was created with `cpus:`, and memory); the healthy-stack values come from the
  labels `chaos-control.limits.cpu` / `chaos-control.limits.memory` on each replica,
  else the native defaults (1 core, 512 MiB).
- Logs: from Elasticsearch when the compose profile "logs" runs (Filebeat's lines), else
  from the Engine API (`container.logs()`); `log_source()` says which. `log_files()` exports
  them to files under the state directory so the same DuckDB search serves both backends.
"""
from chaoslib.backends.docker.backend import DockerBackend

__all__ = ["DockerBackend"]
