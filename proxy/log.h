/*
 * log.h
 *	  Structured logs: one JSON object per line on stdout.
 */
#ifndef PROXY_LOG_H
#define PROXY_LOG_H

#include <jansson.h>

#include "config.h"

/* Sets the threshold once at start-up, before any thread starts */
extern void LogInit(LogLevel level);
extern bool LogEnabled(LogLevel level);

/* Writes {"time","level","msg", ...fields}; steals the reference to fields (may be NULL) */
extern void LogWrite(LogLevel level, const char *msg, json_t *fields);

/* printf-style convenience for start-up and shutdown messages */
extern void LogMessage(LogLevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The current time as ISO 8601 UTC with milliseconds into buf (>= 32 bytes) */
extern void LogTimestamp(char *buf, size_t size);

#endif /* PROXY_LOG_H */
