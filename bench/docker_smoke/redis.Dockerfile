# A stand-in for redis:7 (Docker Hub is out of reach here): Debian's redis-server on the smoke run's
# bookworm base. As the official image does when given no config file, it turns protected mode off
# (the compose network, not a password, keeps others out).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
USER redis
WORKDIR /var/lib/redis
ENTRYPOINT ["sh", "-c", "if [ \"$0\" = redis-server ]; then set -- \"$@\" --protected-mode no; fi; exec \"$0\" \"$@\""]
CMD ["redis-server"]
