# Test substitute for locustio/locust (docker-compose.yml's LOCUST_IMAGE): the same Locust release
# installed from wheels built on the host (pip in a build has no PyPI here), on the debootstrapped
# base. Entry point `locust` and a non-root user, as the official image.
ARG BASE_IMAGE=debian:bookworm-20241111-slim
ARG LOCUST_VERSION=2.32.3
FROM ${BASE_IMAGE}
ARG LOCUST_VERSION
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
COPY wheels/ /tmp/wheels/
RUN python3 -m venv /opt/venv \
    && pip install --no-cache-dir --no-index --find-links=/tmp/wheels "locust==${LOCUST_VERSION}" \
    && rm -rf /tmp/wheels \
    && useradd --system --uid 1000 --create-home locust
USER 1000
WORKDIR /home/locust
EXPOSE 8089
ENTRYPOINT ["locust"]
