"""Linux primitives both backends use (nftables, netem, tmpfs disks, cgroups): no notion of a stack."""
