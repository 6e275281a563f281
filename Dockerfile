# syntax=docker/dockerfile:1
# The operator image: the lean `strata-operator` binary (what the Helm chart runs), plus the `strata` CLI for
# `kubectl exec` and one-off jobs, as a small static image.
#   docker build -t ghcr.io/strata/strata:dev .
#   docker run --rm ghcr.io/strata/strata:dev crds
#   docker run --rm --entrypoint /strata ghcr.io/strata/strata:dev migrate --help
# Stage 1 builds fully static musl binaries (rustls with ring: no OpenSSL; SQLite is compiled in by sqlx).
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p strata-cli -p strata-operator --bin strata --bin strata-operator \
 && install -D -m 0755 target/release/strata /out/strata \
 && install -D -m 0755 target/release/strata-operator /out/strata-operator \
 && /out/strata --version && /out/strata-operator --version

# Stage 2: nothing but the binaries, CA certificates (for registries and TLS databases) and a non-root user.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/strata /strata
COPY --from=build /out/strata-operator /strata-operator
USER 65532:65532
ENTRYPOINT ["/strata-operator"]
CMD ["run"]
