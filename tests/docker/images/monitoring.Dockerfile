# Test substitutes for prom/prometheus, prom/alertmanager and prometheuscommunity/postgres-exporter
# (docker-compose.yml's PROMETHEUS_IMAGE, ALERTMANAGER_IMAGE, POSTGRES_EXPORTER_IMAGE): the same
# programs from Debian's packages, one shared layer, one target each. Same entry points, users
# (nobody), data paths and ports as the official images; wget for compose's healthchecks.
ARG BASE_IMAGE=debian:bookworm-20241111-slim
FROM ${BASE_IMAGE} AS monitoring
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus prometheus-alertmanager \
       prometheus-postgres-exporter wget ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /prometheus /alertmanager /etc/prometheus /etc/alertmanager \
    && chown -R nobody:nogroup /prometheus /alertmanager

FROM monitoring AS prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]

FROM monitoring AS alertmanager
USER nobody
WORKDIR /alertmanager
EXPOSE 9093
ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]

FROM monitoring AS postgres-exporter
USER nobody
EXPOSE 9187
ENTRYPOINT ["/usr/bin/prometheus-postgres-exporter"]
