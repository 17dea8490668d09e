# syntax=docker/dockerfile:1
# Build: docker build -t rdb .
# Run:   docker run -p 4001:4001 -p 4002:4002 -v rdb-data:/rdb/data rdb
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=v0.1.0-dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/rdb ./cmd/rdb

# The image the manifests in deploy/kubernetes run: rdb plus the entrypoint
# that fills node ID and addresses from the pod's hostname; busybox brings
# a shell and hostname(1) for it, nothing more.
#   docker build --target kubernetes -t rdb:latest .
FROM busybox:1.36 AS kubernetes
COPY --from=build /out/rdb /bin/rdb
COPY deploy/docker-entrypoint.sh /bin/docker-entrypoint.sh
RUN mkdir -p /rqlite/file && chown 65532:65532 /rqlite/file
USER 65532:65532
EXPOSE 4001 4002
ENTRYPOINT ["/bin/docker-entrypoint.sh"]

# The default image (the last stage).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rdb /bin/rdb
# rqlited and rqlite names select the daemon and the shell, as with rqlite's image.
VOLUME ["/rdb/data"]
EXPOSE 4001 4002
USER nonroot:nonroot
ENTRYPOINT ["/bin/rdb", "serve"]
# Listen on all interfaces inside the container; advertise addresses other
# nodes can reach by overriding these (e.g. -http-adv-addr host:4001).
CMD ["-http-addr", "0.0.0.0:4001", "-raft-addr", "0.0.0.0:4002", \
     "-http-adv-addr", "localhost:4001", "-raft-adv-addr", "localhost:4002", "/rdb/data"]
