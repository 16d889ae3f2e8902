router.o: router.c router.h routes.h
router.h:
routes.h:
