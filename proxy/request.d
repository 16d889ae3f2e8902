request.o: request.c log.h config.h request.h errors.h params.h router.h \
 routes.h server.h db.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h
log.h:
config.h:
request.h:
errors.h:
params.h:
router.h:
routes.h:
server.h:
db.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
