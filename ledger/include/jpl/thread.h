/*
 * Thread names: every long-lived thread names itself (jpl-writer, jpl-worker, ...) so that top,
 * perf and gdb show which part of jpledger is busy.
 */
#ifndef JPL_THREAD_H
#define JPL_THREAD_H

/* Names the calling thread (at most 15 characters are kept). */
void jpl_thread_name(const char *name);

#endif
