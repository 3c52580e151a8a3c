#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the native stack needs, when they are missing.
# Idempotent: does nothing (and needs no network) when everything is already there.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
pg_server() { ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; }

pg_server || need+=(postgresql)
have prometheus || need+=(prometheus)
have prometheus-alertmanager || need+=(prometheus-alertmanager)
have prometheus-postgres-exporter || need+=(prometheus-postgres-exporter)
have nft || need+=(nftables)
have stress-ng || need+=(stress-ng)
have ip || need+=(iproute2)
have runuser || need+=(util-linux)
have useradd || need+=(passwd)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ "${WITH_BROWSER:-0}" = 1 ]; then have chromium || need+=(chromium); have chromedriver || need+=(chromium-driver); fi
# The docker backend's tests: an engine (started by the tests, never as a service) and
# debootstrap for a base image, since no image registry is reachable.
if [ "${WITH_DOCKER:-0}" = 1 ]; then
  have dockerd || need+=(docker.io)
  have debootstrap || need+=(debootstrap)
fi

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "error: missing packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps Debian from starting the packaged services: the stack runs its own.
had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
[ $had_policy = 1 ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "${need[@]}"
[ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
