# multistore: the PGXS build of the extension, the proxy, and every developer
# command.  `make run` and `make test` are the two a newcomer needs.

EXTENSION = multistore
EXTVERSION = 0.2.0

MODULE_big = multistore
OBJS = $(patsubst %.c,%.o,$(wildcard extension/*.c))
DATA = $(wildcard sql/$(EXTENSION)--*--*.sql)
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
SHLIB_LINK = -largon2
PG_CPPFLAGS = -Iextension -DMULTISTORE_VERSION='"$(EXTVERSION)"'
PG_CFLAGS = -Werror -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare

# The pgTAP suites run through our own installcheck below.
NO_INSTALLCHECK = 1

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

all: sql/$(EXTENSION)--$(EXTVERSION).sql proxy

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql
	cp $< $@

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
# PGXS tracks no header dependencies: rebuild every object when a header changes
$(OBJS): $(wildcard extension/*.h)
else
# A fresh machine: `make run` and `make test` install PostgreSQL first.
all install:
	@echo "PostgreSQL 15 development files are missing: run scripts/deps (make run and make test do)" >&2
	@exit 1
endif

.PHONY: proxy proxy-clean run test installcheck pgtap-valgrind postman fuzz chaos soak migrate seed bench lint format dist \
        unit-test e2e-test strapi-e2e

proxy:
	$(MAKE) -C proxy

clean: proxy-clean
proxy-clean:
	$(MAKE) -C proxy clean
	$(MAKE) -C tests/concurrency clean
	$(MAKE) -C tests/bench clean

# Installs what is missing, builds, starts a throwaway cluster under .run/
# (or uses $DATABASE_URL), loads the sample data, runs the proxy on :4000.
run:
	@scripts/run

# A fresh throwaway cluster, then every suite; exit 0 only if all pass.
test:
	@scripts/test

# pgTAP suites against an existing server (libpq environment or DATABASE_URL).
installcheck:
	pg_prove $(if $(DATABASE_URL),-d "$(DATABASE_URL)") tests/pgtap/*.sql

# The Postman collection (postman/) through newman against a running proxy:
# MS_BASE_URL, default http://127.0.0.1:4000 (the one make run starts).
postman:
	@scripts/postman

# libFuzzer on every parser of the proxy, FUZZ_SECONDS each (default 600;
# make test runs 20 s each).
fuzz:
	@scripts/fuzz

# Fault injection: orders placed and paid while a backend, PostgreSQL and
# the proxy are killed in turn; then the invariants (a cluster of its own).
chaos:
	@scripts/chaos

# The real Strapi 5 (npm, cached in .run/strapi) against the proxy and the
# extension: webhooks, then strapi-sync (a cluster of its own; .ci/run runs it).
strapi-e2e:
	@scripts/strapi-e2e

# Thirty minutes (SOAK_SECONDS) of steady mixed traffic against one proxy:
# its RSS and descriptors over time, p99 per route, then the invariants
# (a cluster of its own on 57340, the proxy on 7101; not in make test).
soak:
	@scripts/soak

# The pgTAP suites with every backend under valgrind (several minutes).
pgtap-valgrind:
	@scripts/pgtap-valgrind

# Proxy unit tests: no database needed.
unit-test:
	$(MAKE) -C proxy test

# Create or update the extension in $DATABASE_URL; never loads sample data.
migrate:
	@scripts/migrate

# Load the sample data into $DATABASE_URL (idempotent).
seed:
	@scripts/seed

# Operations (README, "Operations"), each against $DATABASE_URL as its owner:
# the proxy's login role; a pg_dump -Fc backup (BACKUP_DIR, retention,
# upload); a restore of FILE into an empty database.
.PHONY: proxy-role backup restore
proxy-role:
	@scripts/proxy-role
backup:
	@scripts/backup
restore:
	@scripts/restore "$(FILE)"

bench:
	@scripts/bench

# Formatting (clang-format, .clang-format) and static analysis (cppcheck).
lint:
	clang-format --dry-run --Werror extension/*.[ch] proxy/*.[ch] tests/proxy/*.[ch]
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem --suppress='*:/usr/include/*' --suppress=toomanyconfigs \
	  --max-configs=1 -I extension -I $(shell $(PG_CONFIG) --includedir-server) extension
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -I proxy -I $(shell $(PG_CONFIG) --includedir) proxy

format:
	clang-format -i extension/*.[ch] proxy/*.[ch] tests/proxy/*.[ch]

dist:
	mkdir -p dist
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ \
	  --output dist/$(EXTENSION)-$(EXTVERSION).zip HEAD
