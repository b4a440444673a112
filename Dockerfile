# msiguard, built from source in a Go 1.26 image and run from a distroless
# image as a non-root user (uid 65532). Build it with
#
#   docker build -t msiguard:dev --build-arg VERSION=$(git describe --always --dirty) .
#
# or let `docker compose up` build it (docker-compose.yml). Plain Dockerfile
# syntax only (no `# syntax=` line, no RUN --mount): the classic builder
# (DOCKER_BUILDKIT=0) builds it as BuildKit does, which caches the module
# download layer below instead of a cache mount.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is what `msiguard version` prints (the .git directory is not
# copied into the build context; see .dockerignore).
ARG VERSION=
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
        -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/msiguard ./cmd/msiguard

# static: no libc needed (CGO_ENABLED=0); nonroot: uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/msiguard /usr/local/bin/msiguard
USER nonroot:nonroot
# --metrics-addr: /metrics, /healthz, /readyz. Listen on 0.0.0.0:9108 inside a
# container (the default, 127.0.0.1:9108, is not reachable from outside it).
EXPOSE 9108
# No HEALTHCHECK here: the image also runs gen, which serves no probes.
# docker-compose.yml gives the msiguard service one with
# `msiguard healthcheck` (no curl in a distroless image).
ENTRYPOINT ["/usr/local/bin/msiguard"]
CMD ["--help"]
