# A TEST DOUBLE for cAdvisor (docker-compose.yml's CADVISOR_IMAGE), which cannot be built or
# pulled here: cadvisor_double.py publishes the series the game reads under cAdvisor's names,
# from the same sources (the Engine API for names and OOM events, cgroups for figures).
# It ignores cAdvisor's flags. wget for compose's healthcheck, as the official image has.
ARG APP_IMAGE=chaos-control-app:local
FROM ${APP_IMAGE}
# Root, as cAdvisor runs: the Engine API socket is root's.
# hadolint ignore=DL3002
USER 0
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends wget \
    && rm -rf /var/lib/apt/lists/*
COPY cadvisor_double.py /opt/cadvisor_double.py
EXPOSE 8080
ENTRYPOINT ["python", "/opt/cadvisor_double.py"]
