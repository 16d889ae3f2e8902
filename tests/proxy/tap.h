/*
 * tap.h
 *	  A few TAP helpers for the proxy's unit tests (run by prove).
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count = 0;
static int tap_failures = 0;

static void
tap_result(int pass, const char *file, int line, const char *fmt, va_list args)
{
	tap_count++;
	if (!pass)
		tap_failures++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_count);
	vprintf(fmt, args);
	printf("\n");
	if (!pass)
		printf("#   Failed at %s line %d\n", file, line);
}

static void __attribute__((format(printf, 4, 5)))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	tap_result(pass, file, line, fmt, args);
	va_end(args);
}

#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                                               \
	do                                                                                                       \
	{                                                                                                        \
		long long g_ = (long long) (got), w_ = (long long) (want);                                           \
		tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__);                                                   \
		if (g_ != w_)                                                                                        \
			printf("#        got: %lld\n#   expected: %lld\n", g_, w_);                                      \
	} while (0)

#define is_str(got, want, ...)                                                                               \
	do                                                                                                       \
	{                                                                                                        \
		const char *g_ = (got), *w_ = (want);                                                                \
		int			pass_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0);                 \
		tap_ok(pass_, __FILE__, __LINE__, __VA_ARGS__);                                                      \
		if (!pass_)                                                                                          \
			printf("#        got: %s\n#   expected: %s\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");          \
	} while (0)

static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures ? 1 : 0;
}

#endif /* TESTS_TAP_H */
