/*
 * NIP validation (see jpl/nip.h for the layout). The checks run in reading order: length, digits,
 * birth date, appointment month, sex, sequence, then the two checks between dates (at least 18
 * years old at appointment, appointment not in the future), so the message names the first part
 * that is wrong. The same calendar rules parse plain dates (jpl_date_parse, "YYYY-MM-DD").
 */
#include "jpl/nip.h"

#include <stdbool.h>
#include <string.h>

/* Enough for the first 24 bytes of a bad NIP, escaped, plus "...". */
#define SHOW_MAX 24

/* A printable copy of untrusted bytes for messages: non-printable bytes become '?'. */
static void show(char out[SHOW_MAX + 4], const char *s, size_t len)
{
    size_t n = len < SHOW_MAX ? len : SHOW_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (len > SHOW_MAX) {
        out[n++] = '.';
        out[n++] = '.';
        out[n++] = '.';
    }
    out[n] = '\0';
}

static uint32_t digits(const char *s, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint32_t)(s[i] - '0');
    return v;
}

static bool is_leap(uint32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static uint32_t days_in_month(uint32_t y, uint32_t m)
{
    static const uint8_t DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && is_leap(y))
        return 29;
    return DAYS[m - 1];
}

jpl_err jpl_nip_parse(const char *nip, size_t len, uint32_t now_yyyymm, jpl_nip *out, jpl_error *e)
{
    char shown[SHOW_MAX + 4];
    if (nip == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "NIP is missing");
    show(shown, nip, len);
    if (len != JPL_NIP_LEN)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "NIP %s: must be %d digits, got %zu characters",
                        shown, JPL_NIP_LEN, len);
    for (size_t i = 0; i < len; i++) {
        if (nip[i] < '0' || nip[i] > '9')
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "NIP %s: character %zu ('%c') is not a digit",
                            shown, i + 1, shown[i]);
    }

    uint32_t by = digits(nip, 4), bm = digits(nip + 4, 2), bd = digits(nip + 6, 2);
    uint32_t ay = digits(nip + 8, 4), am = digits(nip + 12, 2);
    uint32_t sex = digits(nip + 14, 1), seq = digits(nip + 15, 3);

    if (by < 1900)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "NIP %s: birth year %04u is before 1900", shown, by);
    if (bm < 1 || bm > 12 || bd < 1 || bd > days_in_month(by, bm))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "NIP %s: birth date %.8s is not a calendar date",
                        shown, nip);
    if (am < 1 || am > 12)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "NIP %s: appointment month %02u (in %.6s) is not 01-12", shown, am,
                        nip + 8);
    if (sex != JPL_NIP_MALE && sex != JPL_NIP_FEMALE)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "NIP %s: sex digit %u is not 1 (male) or 2 (female)",
                        shown, sex);
    if (seq == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "NIP %s: sequence 000 is not 001-999", shown);

    /* Months only: the appointment has no day, so "18 years old" means the birth month + 18y. */
    uint32_t appoint = ay * 100 + am;
    uint32_t adult = (by + 18) * 100 + bm;
    if (appoint < adult)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "NIP %s: appointment %.6s is before the 18th birthday month %06u", shown,
                        nip + 8, adult);
    if (now_yyyymm != 0 && appoint > now_yyyymm)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "NIP %s: appointment %.6s is after the current month %06u", shown, nip + 8,
                        now_yyyymm);

    if (out != NULL) {
        out->birth_year = (uint16_t)by;
        out->birth_month = (uint8_t)bm;
        out->birth_day = (uint8_t)bd;
        out->appoint_year = (uint16_t)ay;
        out->appoint_month = (uint8_t)am;
        out->sex = (uint8_t)sex;
        out->seq = (uint16_t)seq;
    }
    return JPL_OK;
}

jpl_err jpl_nip_validate(const char *nip, size_t len, uint32_t now_yyyymm, jpl_error *e)
{
    return jpl_nip_parse(nip, len, now_yyyymm, NULL, e);
}

jpl_err jpl_date_parse(const char *s, const char *what, jpl_date *out, jpl_error *e)
{
    char sh[SHOW_MAX + 4];
    if (s == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s is missing", what);
    size_t len = strnlen(s, SHOW_MAX + 1);
    show(sh, s, len);
    bool form = len == 10 && s[4] == '-' && s[7] == '-';
    for (size_t i = 0; form && i < len; i++)
        form = i == 4 || i == 7 || (s[i] >= '0' && s[i] <= '9');
    if (!form)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s '%s' is not a date YYYY-MM-DD", what, sh);
    uint32_t y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1900 || y > 2100)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s '%s': year %04u is outside 1900-2100", what, sh,
                        y);
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s '%s' is not a calendar date", what, sh);
    out->year = (uint16_t)y;
    out->month = (uint8_t)m;
    out->day = (uint8_t)d;
    return JPL_OK;
}

uint32_t jpl_time_yyyymm(uint64_t unix_ms)
{
    /* Any 400 consecutive Gregorian years have 146097 days, so skip whole cycles first. */
    uint64_t days = unix_ms / 86400000u;
    uint64_t year = 1970 + 400 * (days / 146097);
    days %= 146097;
    for (;;) {
        uint64_t ylen = is_leap((uint32_t)(year % 400)) ? 366 : 365;
        if (days < ylen)
            break;
        days -= ylen;
        year++;
    }
    if (year > 9999)
        return 999912;
    uint32_t m = 1;
    while (days >= days_in_month((uint32_t)year, m)) {
        days -= days_in_month((uint32_t)year, m);
        m++;
    }
    return (uint32_t)year * 100 + m;
}
