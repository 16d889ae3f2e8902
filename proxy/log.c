/*
 * log.c
 *	  JSON log lines, written whole so lines from threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Set once by LogInit before threads start, read-only afterwards */
static LogLevel threshold = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
LogInit(LogLevel level)
{
	threshold = level;
}

bool
LogEnabled(LogLevel level)
{
	return level >= threshold;
}

void
LogTimestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm		tm;
	size_t			n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void
LogWrite(LogLevel level, const char *msg, json_t *fields)
{
	char	now[40];
	json_t *line;
	char   *text;

	if (!LogEnabled(level))
	{
		json_decref(fields);
		return;
	}
	LogTimestamp(now, sizeof(now));
	line = json_pack("{s:s,s:s,s:s}", "time", now, "level", level_names[level], "msg", msg);
	if (fields)
	{
		json_object_update(line, fields);
		json_decref(fields);
	}
	text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(line);
	if (text)
	{
		/* hold the stream's lock for the whole line so threads never interleave */
		flockfile(stdout);
		fputs(text, stdout);
		putc_unlocked('\n', stdout);
		fflush(stdout);
		funlockfile(stdout);
		free(text);
	}
}

void
LogMessage(LogLevel level, const char *fmt, ...)
{
	char	msg[1024];
	va_list args;

	if (!LogEnabled(level))
		return;
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	LogWrite(level, msg, NULL);
}
