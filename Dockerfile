# syntax=docker/dockerfile:1
# The strata binary (CLI + operator) as a small static image.
#   docker build -t ghcr.io/strata/strata:dev .
#   docker run --rm ghcr.io/strata/strata:dev operator crds
# Stage 1 builds a fully static musl binary (rustls with ring: no OpenSSL; SQLite is compiled in by sqlx).
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p strata-cli \
 && install -D -m 0755 target/release/strata /out/strata \
 && /out/strata --version

# Stage 2: nothing but the binary, CA certificates (for registries and TLS databases) and a non-root user.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/strata /strata
USER 65532:65532
ENTRYPOINT ["/strata"]
CMD ["operator", "run"]
