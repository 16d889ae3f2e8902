# multistore images, built with the same steps as the scripts: scripts/deps
# installs the Debian packages, the Makefile builds.  (Docker cannot run on
# the development machine; keep this file in step with scripts/deps.)
#
#   docker build --target db -t multistore-db .        PostgreSQL 15 + PostGIS + pg_cron + multistore
#   docker build --target proxy -t multistore-proxy .  the proxy alone

FROM debian:12 AS build
WORKDIR /src
COPY scripts/ scripts/
RUN scripts/deps && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make clean >/dev/null 2>&1 || true; make all && make install DESTDIR=/out

FROM debian:12 AS db
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      postgresql-15 postgresql-15-postgis-3 postgresql-15-cron libargon2-1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
ENV PGDATA=/var/lib/postgresql/data POSTGRES_DB=multistore
USER postgres
# A new data directory gets pg_cron preloaded for POSTGRES_DB, then the
# extension is created there; an existing one is started as it is.
CMD ["bash", "-c", "set -e; bin=/usr/lib/postgresql/15/bin; \
  if [ ! -s \"$PGDATA/PG_VERSION\" ]; then \
    $bin/initdb -D \"$PGDATA\" -U postgres --auth-local=peer --auth-host=scram-sha-256 --pwfile=<(printf '%s' \"${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}\"); \
    printf \"listen_addresses = '*'\\nshared_preload_libraries = 'pg_cron'\\ncron.database_name = '%s'\\ncron.use_background_workers = on\\nmax_worker_processes = 32\\n\" \"$POSTGRES_DB\" >> \"$PGDATA/postgresql.conf\"; \
    echo 'host all all all scram-sha-256' >> \"$PGDATA/pg_hba.conf\"; \
    $bin/pg_ctl -D \"$PGDATA\" -w start; \
    $bin/createdb \"$POSTGRES_DB\"; \
    psql -d \"$POSTGRES_DB\" -c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION multistore CASCADE'; \
    $bin/pg_ctl -D \"$PGDATA\" -w stop; \
  fi; \
  exec $bin/postgres -D \"$PGDATA\""]
EXPOSE 5432

FROM debian:12-slim AS proxy
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libmicrohttpd12 libpq5 libjansson4 libwslay1 libssl3 zlib1g libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/proxy/multistore-proxy /usr/local/bin/multistore-proxy
# Swagger UI for GET /docs, fetched from npm by the build stage's make
COPY --from=build /src/proxy/node_modules/swagger-ui-dist/ /usr/local/share/multistore/swagger-ui-dist/
USER nobody
ENV HOST=0.0.0.0 PORT=4000 DOCS_DIR=/usr/local/share/multistore/swagger-ui-dist
EXPOSE 4000
ENTRYPOINT ["/usr/local/bin/multistore-proxy"]
