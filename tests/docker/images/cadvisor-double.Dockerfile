# A TEST DOUBLE for cAdvisor (docker-compose.yml's CADVISOR_IMAGE), which cannot be built or
# pulled here: cadvisor_double.py publishes the series the game reads under cAdvisor's names,
# from the same sources (the Engine API for names and OOM events, cgroups for figures).
# It ignores cAdvisor's flags. The tests run it beside the compose project (compose_env.py),
# not as the compose service, so compose's wget healthcheck does not apply to it.
ARG APP_IMAGE=chaos-control-app:local
FROM ${APP_IMAGE}
COPY cadvisor_double.py /opt/cadvisor_double.py
# Root, as cAdvisor runs: the Engine API socket is root's.
# hadolint ignore=DL3002
USER 0
EXPOSE 8080
# Not the app: the app image's own health check (its /livez) does not apply.
HEALTHCHECK NONE
ENTRYPOINT ["python", "/opt/cadvisor_double.py"]
