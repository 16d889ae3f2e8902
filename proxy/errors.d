errors.o: errors.c errors.h
errors.h:
