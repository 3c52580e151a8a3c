"""The local backend's runtime: users, supervisor, programs, postgres and probes of the native stack."""
