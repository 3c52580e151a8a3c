#!/usr/bin/env bash
# Install the Dev Container CLI (@devcontainers/cli, pinned) into .tools/devcontainers when it
# is missing: tests/docker/test_devcontainer.py runs it on .devcontainer/devcontainer.json.
# Idempotent: does nothing (and needs no network) when the pinned version is already there.
set -euo pipefail

VERSION="${DEVCONTAINER_CLI_VERSION:-0.89.0}"
PREFIX="${DEVCONTAINER_CLI_PREFIX:-.tools/devcontainers}"
pkg="$PREFIX/node_modules/@devcontainers/cli/package.json"

if [ -f "$pkg" ] && grep -q "\"version\": \"$VERSION\"" "$pkg"; then
  echo "devcontainer CLI $VERSION: present"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "note: npm is missing: the Dev Container CLI test will not run (Debian: apt-get install npm)" >&2
  exit 0
fi
echo "installing @devcontainers/cli@$VERSION into $PREFIX"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "@devcontainers/cli@$VERSION"
