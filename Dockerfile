# syntax=docker/dockerfile:1
# multistore images, built with the same steps as the scripts: scripts/deps
# installs the Debian packages, the Makefile builds and installs, and the
# database image sets itself up with scripts/migrate, scripts/proxy-role and
# scripts/seed (scripts/db-entrypoint).  Docker cannot run on the development
# machine: tests/ops/docker.mjs checks this file and docker-compose.yml
# against the repository, and tests/ops/packaging.sh runs db-entrypoint
# itself against this machine's PostgreSQL.
#
#   docker build --target db -t multistore-db .        PostgreSQL 15 + PostGIS + pg_cron (preloaded) + multistore
#   docker build --target proxy -t multistore-proxy .  the proxy alone, on debian:12-slim
#   docker compose up                                  both (docker-compose.yml)

FROM debian:12 AS build
WORKDIR /src
# Debian's PostgreSQL package would create a cluster of its own: not needed anywhere here
RUN mkdir -p /etc/postgresql-common && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
COPY scripts/ scripts/
RUN scripts/deps && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make clean >/dev/null 2>&1 || true; make all && make install DESTDIR=/out

FROM debian:12-slim AS db
RUN mkdir -p /etc/postgresql-common && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      postgresql-15 postgresql-15-postgis-3 postgresql-15-cron libargon2-1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/run/postgresql /var/lib/postgresql/data \
 && chown postgres:postgres /var/run/postgresql /var/lib/postgresql/data && chmod 700 /var/lib/postgresql/data
# the extension, as make install put it (library, control file, install and update scripts)
COPY --from=build /out/ /
COPY scripts/lib.sh scripts/migrate scripts/proxy-role scripts/seed scripts/db-entrypoint /opt/multistore/scripts/
COPY sql/seed.sql /opt/multistore/sql/seed.sql
ENV PGDATA=/var/lib/postgresql/data POSTGRES_DB=multistore PATH=/usr/lib/postgresql/15/bin:$PATH
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# ready only when the final server is (set-up runs on a private socket)
HEALTHCHECK --interval=5s --timeout=3s --retries=60 CMD pg_isready -h /var/run/postgresql -d "$POSTGRES_DB" || exit 1
ENTRYPOINT ["/opt/multistore/scripts/db-entrypoint"]

FROM debian:12-slim AS proxy
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libmicrohttpd12 libpq5 libjansson4 libwslay1 libssl3 zlib1g libcurl4 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/proxy/multistore-proxy /usr/local/bin/multistore-proxy
# Swagger UI for GET /docs, fetched from npm by the build stage's make
COPY --from=build /src/proxy/node_modules/swagger-ui-dist/ /usr/local/share/multistore/swagger-ui-dist/
USER nobody
ENV HOST=0.0.0.0 PORT=4000 DOCS_DIR=/usr/local/share/multistore/swagger-ui-dist
EXPOSE 4000
HEALTHCHECK --interval=5s --timeout=3s CMD curl -fs http://127.0.0.1:4000/health || exit 1
ENTRYPOINT ["/usr/local/bin/multistore-proxy"]
