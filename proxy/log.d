log.o: log.c log.h config.h
log.h:
config.h:
