params.o: params.c params.h errors.h router.h routes.h
params.h:
errors.h:
router.h:
routes.h:
