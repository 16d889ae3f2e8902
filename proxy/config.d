config.o: config.c config.h
config.h:
