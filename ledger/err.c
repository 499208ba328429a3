/* Error names and message formatting for the jpl_err enum (see err.h). */
#include "jpl/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const NAMES[JPL_ERR__COUNT] = {
    [JPL_OK] = "ok",
    [JPL_ERR_USAGE] = "usage",
    [JPL_ERR_BAD_INPUT] = "bad_input",
    [JPL_ERR_TOO_LARGE] = "too_large",
    [JPL_ERR_BAD_SIGNATURE] = "bad_signature",
    [JPL_ERR_UNKNOWN_KEY] = "unknown_key",
    [JPL_ERR_KEY_REVOKED] = "key_revoked",
    [JPL_ERR_FORBIDDEN] = "forbidden",
    [JPL_ERR_CONFLICT] = "conflict",
    [JPL_ERR_VERSION] = "version_mismatch",
    [JPL_ERR_NO_EMPLOYEE] = "no_employee",
    [JPL_ERR_BAD_REFERENCE] = "bad_reference",
    [JPL_ERR_DOUBLE_COUNT] = "double_count",
    [JPL_ERR_OVER_JP] = "over_jp",
    [JPL_ERR_RULE] = "rule_violation",
    [JPL_ERR_NOT_FOUND] = "not_found",
    [JPL_ERR_EXISTS] = "exists",
    [JPL_ERR_CORRUPT] = "corrupt",
    [JPL_ERR_IO] = "io",
    [JPL_ERR_INTERNAL] = "internal",
    [JPL_ERR_UNAUTHORIZED] = "unauthorized",
};

const char *jpl_strerror(jpl_err code)
{
    if ((int)code < 0 || code >= JPL_ERR__COUNT || NAMES[code] == NULL)
        return "unknown_error";
    return NAMES[code];
}

jpl_err jpl_fail(jpl_error *e, jpl_err code, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

jpl_err jpl_error_prefix(jpl_error *e, const char *fmt, ...)
{
    if (e == NULL)
        return JPL_ERR_INTERNAL;
    char prefix[JPL_ERRMSG_MAX];
    char old[JPL_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t plen = strnlen(prefix, sizeof prefix - 1);
    size_t room = sizeof e->msg - 1;
    /* prefix, ": ", old message, truncated to fit */
    size_t n = plen < room ? plen : room;
    memcpy(e->msg, prefix, n);
    if (n + 2 <= room) {
        memcpy(e->msg + n, ": ", 2);
        n += 2;
        size_t olen = strnlen(old, sizeof old - 1);
        size_t take = olen < room - n ? olen : room - n;
        memcpy(e->msg + n, old, take);
        n += take;
    }
    e->msg[n] = '\0';
    return e->code;
}
