# sluice: one static binary in a minimal non-root image.
#   docker build -t sluice --build-arg VERSION=$(git describe --tags --always) .
# The binary is built exactly as `make build` builds it (CGO_ENABLED=0,
# -trimpath, stripped), which is the binary the end-to-end tests run.
FROM golang:1.26-bookworm AS build
# go.mod's toolchain: the go command fetches Go 1.27.3 from the module proxy.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sluice ./cmd/sluice

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sluice /usr/local/bin/sluice
# REST API, SSE streams, embedded Schema Registry, embedded Kafka broker.
EXPOSE 8083 8080 8081 9092
# Without rest.auth the REST API and the embedded registry listen on the
# container's loopback only; set SLUICE_REST_AUTH_TOKENS (or _USER and
# _PASSWORD) to serve them on every interface.
ENV SLUICE_STATE_DIR=/var/lib/sluice
VOLUME ["/var/lib/sluice"]
USER nonroot:nonroot
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/sluice", "health"]
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["run", "--connectors-dir", "/etc/sluice/connectors"]
