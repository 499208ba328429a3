/*
 * Thread names (see thread.h): the one place that needs the GNU extension.
 */
#define _GNU_SOURCE
#include "jpl/thread.h"

#include <pthread.h>

void jpl_thread_name(const char *name)
{
    (void)pthread_setname_np(pthread_self(), name);
}
