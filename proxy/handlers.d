handlers.o: handlers.c handlers.h request.h errors.h params.h router.h \
 routes.h server.h config.h db.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h
handlers.h:
request.h:
errors.h:
params.h:
router.h:
routes.h:
server.h:
config.h:
db.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
