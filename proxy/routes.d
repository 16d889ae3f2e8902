routes.o: routes.c handlers.h router.h routes.h
handlers.h:
router.h:
routes.h:
