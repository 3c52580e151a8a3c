"""The native stack's outside probes: act as the load balancer's, a replica's or the exporter's own user."""
from __future__ import annotations

from chaoslib.backends.base import Probe
from chaoslib.backends.local.state import LocalState
from chaoslib.native.probes import OutsideProbe


class LocalProbes(LocalState):
    """probe(): the native OutsideProbe on this stack."""

    def probe(self) -> Probe:
        return OutsideProbe(self)
