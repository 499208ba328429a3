/* NIP validation: valid NIPs, every failure kind with its message, leap days, the 18-year rule. */
#include "test.h"

#include <stdbool.h>
#include <time.h>

#include "jpl/nip.h"

static jpl_err check_nip(const char *nip, uint32_t now, jpl_error *e)
{
    memset(e, 0, sizeof *e);
    return jpl_nip_validate(nip, strlen(nip), now, e);
}

/* Expects a BAD_INPUT failure whose message contains want. */
static void expect_bad(const char *nip, uint32_t now, const char *want)
{
    jpl_error e;
    jpl_err rc = check_nip(nip, now, &e);
    CHECK_EQ(rc, JPL_ERR_BAD_INPUT);
    CHECK_EQ(e.code, JPL_ERR_BAD_INPUT);
    if (strstr(e.msg, want) == NULL) {
        fprintf(stderr, "  NIP \"%s\": message \"%s\" lacks \"%s\"\n", nip, e.msg, want);
        CHECK(strstr(e.msg, want) != NULL);
    }
}

static void test_valid(void)
{
    jpl_error e;
    jpl_nip n;
    memset(&n, 0, sizeof n);
    const char *s = "199005152015031001";
    REQUIRE(jpl_nip_parse(s, strlen(s), 202507, &n, &e) == JPL_OK);
    CHECK_EQ(n.birth_year, 1990);
    CHECK_EQ(n.birth_month, 5);
    CHECK_EQ(n.birth_day, 15);
    CHECK_EQ(n.appoint_year, 2015);
    CHECK_EQ(n.appoint_month, 3);
    CHECK_EQ(n.sex, JPL_NIP_MALE);
    CHECK_EQ(n.seq, 1);

    s = "198712312010122999";
    REQUIRE(jpl_nip_parse(s, strlen(s), 0, &n, &e) == JPL_OK);
    CHECK_EQ(n.birth_year, 1987);
    CHECK_EQ(n.birth_month, 12);
    CHECK_EQ(n.birth_day, 31);
    CHECK_EQ(n.appoint_year, 2010);
    CHECK_EQ(n.appoint_month, 12);
    CHECK_EQ(n.sex, JPL_NIP_FEMALE);
    CHECK_EQ(n.seq, 999);

    CHECK_EQ(check_nip("190001011950012001", 0, &e), JPL_OK); /* earliest birth year */
    CHECK_EQ(check_nip("199005152015031001", 0, &e), JPL_OK);
    /* NULL out is allowed and the string need not be NUL-terminated at 18. */
    CHECK_EQ(jpl_nip_parse("199005152015031001XYZ", 18, 0, NULL, &e), JPL_OK);
    /* e may be NULL */
    CHECK_EQ(jpl_nip_validate("1990", 4, 0, NULL), JPL_ERR_BAD_INPUT);
}

static void test_out_untouched_on_failure(void)
{
    jpl_nip n;
    memset(&n, 0xAB, sizeof n);
    jpl_nip before = n;
    jpl_error e;
    CHECK_EQ(jpl_nip_parse("199013152015031001", 18, 0, &n, &e), JPL_ERR_BAD_INPUT);
    CHECK_MEMEQ(&n, &before, sizeof n);
}

static void test_length_and_digits(void)
{
    expect_bad("", 0, "must be 18 digits, got 0 characters");
    expect_bad("19900515201503100", 0, "got 17 characters");
    expect_bad("1990051520150310011", 0, "got 19 characters");
    expect_bad("19900515201503100A", 0, "character 18 ('A') is not a digit");
    expect_bad("1990-0515201503100", 0, "character 5 ('-') is not a digit");
    expect_bad(" 99005152015031001", 0, "character 1 (' ') is not a digit");
    /* a control byte is shown escaped, not raw */
    expect_bad("1990051520150\n1001", 0, "character 14 ('?') is not a digit");
    /* an embedded NUL counts as a character, not the end */
    jpl_error e;
    CHECK_EQ(jpl_nip_validate("19900515\0"
                              "015031001",
                              18, 0, &e),
             JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "character 9") != NULL);
    CHECK_EQ(jpl_nip_validate(NULL, 18, 0, &e), JPL_ERR_BAD_INPUT);
    /* a long string is truncated in the message */
    expect_bad("1234567890123456789012345678901234567890", 0, "...");
}

static void test_birth_date(void)
{
    expect_bad("189912312010031001", 0, "birth year 1899 is before 1900");
    expect_bad("199013322015031001", 0, "birth date 19901332 is not a calendar date");
    expect_bad("199000152015031001", 0, "birth date 19900015 is not a calendar date");
    expect_bad("199005002015031001", 0, "birth date 19900500 is not a calendar date");
    expect_bad("199004312015031001", 0, "birth date 19900431 is not a calendar date");
    expect_bad("199005322015031001", 0, "birth date 19900532 is not a calendar date");
    /* the message starts with the NIP */
    jpl_error e;
    CHECK_EQ(check_nip("199013322015031001", 0, &e), JPL_ERR_BAD_INPUT);
    CHECK(strncmp(e.msg, "NIP 199013322015031001: ", 24) == 0);
}

static void test_leap_days(void)
{
    jpl_error e;
    CHECK_EQ(check_nip("199202292015031001", 0, &e), JPL_OK); /* 1992: leap */
    CHECK_EQ(check_nip("200002292020031001", 0, &e), JPL_OK); /* 2000: leap (400) */
    expect_bad("199102292015031001", 0, "birth date 19910229 is not a calendar date");
    expect_bad("190002291950031001", 0, "birth date 19000229 is not a calendar date"); /* 100 */
    expect_bad("199202302015031001", 0, "birth date 19920230 is not a calendar date");
    CHECK_EQ(check_nip("199102282015031001", 0, &e), JPL_OK);
}

static void test_appointment(void)
{
    expect_bad("199005152015001001", 0, "appointment month 00 (in 201500) is not 01-12");
    expect_bad("199005152015131001", 0, "appointment month 13 (in 201513) is not 01-12");

    jpl_error e;
    /* born May 1990: 18 in May 2008 */
    CHECK_EQ(check_nip("199005152008051001", 0, &e), JPL_OK); /* 18 years 0 months */
    CHECK_EQ(check_nip("199005312008051001", 0, &e), JPL_OK); /* birth day does not matter */
    expect_bad("199005152008041001", 0,
               "appointment 200804 is before the 18th birthday month "
               "200805"); /* 17 years 11 months */
    expect_bad("199005152000011001", 0, "is before the 18th birthday month");
    expect_bad("199005151980011001", 0, "is before the 18th birthday month"); /* before birth */
    /* across a year boundary: born Dec 1990, 18 in Dec 2008 */
    expect_bad("199012012008111001", 0, "appointment 200811 is before");
    CHECK_EQ(check_nip("199012012008121001", 0, &e), JPL_OK);
}

static void test_future(void)
{
    jpl_error e;
    CHECK_EQ(check_nip("199005152025071001", 202507, &e), JPL_OK); /* this month */
    expect_bad("199005152025081001", 202507,
               "appointment 202508 is after the current month 202507");
    expect_bad("199005152030011001", 202512, "after the current month 202512");
    CHECK_EQ(check_nip("199005152099121001", 0, &e), JPL_OK); /* 0: no future check */
}

static void test_sex_and_sequence(void)
{
    expect_bad("199005152015030001", 0, "sex digit 0 is not 1 (male) or 2 (female)");
    expect_bad("199005152015033001", 0, "sex digit 3 is not 1 (male) or 2 (female)");
    expect_bad("199005152015039001", 0, "sex digit 9");
    expect_bad("199005152015031000", 0, "sequence 000 is not 001-999");
    expect_bad("199005152015032000", 0, "sequence 000");
}

static void test_first_error_wins(void)
{
    /* bad birth date and bad sex: the birth date is reported */
    expect_bad("199013322015039000", 0, "birth date 19901332");
    /* bad month and too young: the month is reported */
    expect_bad("199005152000131001", 0, "appointment month 13");
}

static void test_time_yyyymm(void)
{
    CHECK_EQ(jpl_time_yyyymm(0), 197001);
    CHECK_EQ(jpl_time_yyyymm(UINT64_MAX), 999912);
    /* cross-check against the C library on a spread of instants, including month edges */
    static const int64_t SECS[] = {
        946684799,    946684800,   951782399,   951782400,  951868800,  1709164800,
        1709251199,   1709251200,  1735689599,  1735689600, 4102444799, 4102444800,
        4107542400,   32503680000, 13569465600, /* 2400-01-01: a 400-year leap */
        253402300799,                           /* 9999-12-31T23:59:59 */
    };
    for (size_t i = 0; i < sizeof SECS / sizeof SECS[0]; i++) {
        time_t t = (time_t)SECS[i];
        struct tm tm;
        REQUIRE(gmtime_r(&t, &tm) != NULL);
        uint32_t want = (uint32_t)(tm.tm_year + 1900) * 100 + (uint32_t)(tm.tm_mon + 1);
        CHECK_EQ(jpl_time_yyyymm((uint64_t)SECS[i] * 1000), want);
        CHECK_EQ(jpl_time_yyyymm((uint64_t)SECS[i] * 1000 + 999), want);
    }
    /* and every day for 1970..2101 (one check: stops at the first difference) */
    for (int64_t s = 0; s < 4133980800; s += 86400) {
        time_t t = (time_t)s;
        struct tm tm;
        if (gmtime_r(&t, &tm) == NULL) {
            CHECK(false);
            break;
        }
        uint32_t want = (uint32_t)(tm.tm_year + 1900) * 100 + (uint32_t)(tm.tm_mon + 1);
        if (jpl_time_yyyymm((uint64_t)s * 1000) != want) {
            CHECK_EQ(jpl_time_yyyymm((uint64_t)s * 1000), want);
            return;
        }
    }
    CHECK(true);
}

int main(void)
{
    static const jpl_test_case CASES[] = {
        TEST_CASE(test_valid),
        TEST_CASE(test_out_untouched_on_failure),
        TEST_CASE(test_length_and_digits),
        TEST_CASE(test_birth_date),
        TEST_CASE(test_leap_days),
        TEST_CASE(test_appointment),
        TEST_CASE(test_future),
        TEST_CASE(test_sex_and_sequence),
        TEST_CASE(test_first_error_wins),
        TEST_CASE(test_time_yyyymm),
    };
    return jpl_test_run("nip", CASES, sizeof CASES / sizeof CASES[0]);
}
