main.o: main.c config.h db.h /usr/include/postgresql/libpq-fe.h \
 /usr/include/postgresql/postgres_ext.h \
 /usr/include/postgresql/pg_config_ext.h routes.h log.h request.h \
 errors.h params.h router.h server.h
config.h:
db.h:
/usr/include/postgresql/libpq-fe.h:
/usr/include/postgresql/postgres_ext.h:
/usr/include/postgresql/pg_config_ext.h:
routes.h:
log.h:
request.h:
errors.h:
params.h:
router.h:
server.h:
