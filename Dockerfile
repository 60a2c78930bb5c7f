# BA Copilot, CPU image. Models and data are volumes: fetch the default models
# on the host first (scripts/fetch-models.sh writes ./models), then
#
#   docker build -t bacopilot .
#   docker run -d -p 8080:8080 -v "$PWD/models:/models" -v bacopilot-data:/data bacopilot
#
# The build runs scripts/build.sh, the same script scripts/run.sh uses.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/src/target
RUN scripts/build.sh && cp /src/target/dist/bacopilot /usr/local/bin/bacopilot

FROM debian:bookworm-slim
# curl answers the health check; nothing else is needed at run time (the
# binary links only libc, libm and libgcc_s).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home bacopilot \
 && mkdir -p /data /models /etc/bacopilot \
 && chown bacopilot:bacopilot /data /models
COPY --from=build /usr/local/bin/bacopilot /usr/local/bin/bacopilot
COPY config.toml /etc/bacopilot/config.toml
ENV BACOPILOT_CONFIG=/etc/bacopilot/config.toml \
    BACOPILOT_DATA_DIR=/data \
    BACOPILOT_MODELS_DIR=/models \
    BACOPILOT_LISTEN=0.0.0.0:8080 \
    BACOPILOT_LOG_FORMAT=json
VOLUME ["/data", "/models"]
EXPOSE 8080
USER bacopilot
# /readyz answers 200 once the role models are loaded (a minute or two on a
# small CPU), 503 before.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["bacopilot"]
CMD ["serve"]
