"""The pieces of the native (no Docker) stack: users, cgroups, disks, nftables, supervisor."""
