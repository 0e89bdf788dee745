/*
 * test_etag.c — entity-tags and If-Match (core/etag.h, RFC 9110): the
 * grammar (*, lists, weak tags, empty list elements), strong comparison,
 * and what is malformed; If-None-Match's weak comparison; a body's tag.
 */
#include "core/etag.h"
#include "unit.h"

static bool holds(const char *header, const char *etag)
{
    etag_cond c;
    return etag_cond_parse(header, &c) && etag_cond_holds(&c, etag);
}

static bool parses(const char *header)
{
    etag_cond c;
    return etag_cond_parse(header, &c);
}

static void test_format(void)
{
    char t[ETAG_BUF];
    etag_format(t, sizeof t, 42);
    CHECK_EQ_STR(t, "\"42\"");
    etag_format2(t, sizeof t, 7, 0);
    CHECK_EQ_STR(t, "\"7.0\"");
}

static void test_absent_and_star_hold(void)
{
    etag_cond c;
    CHECK(etag_cond_parse(NULL, &c));
    CHECK(!c.present);
    CHECK(etag_cond_holds(&c, "\"1\""));
    CHECK(etag_cond_holds(NULL, "\"1\""));
    CHECK(holds("*", "\"1\""));
    CHECK(holds("  * ", "\"1\""));
}

static void test_strong_comparison(void)
{
    CHECK(holds("\"12\"", "\"12\""));
    CHECK(!holds("\"12\"", "\"13\""));
    CHECK(!holds("\"1\"", "\"12\""));
    CHECK(!holds("W/\"12\"", "\"12\"")); /* weak never matches strongly */
    CHECK(holds("\"a\", \"12\"", "\"12\""));
    CHECK(holds("W/\"12\",\"12\"", "\"12\""));
    CHECK(holds("\"x\" ,\t\"12\"", "\"12\""));
    CHECK(holds(", \"12\",,", "\"12\"")); /* empty list elements are allowed */
    CHECK(holds("\"7.3\"", "\"7.3\""));
    CHECK(!holds("\"7.3\"", "\"7.4\""));
    CHECK(holds("\"\"", "\"\""));
}

static void test_malformed(void)
{
    CHECK(!parses(""));
    CHECK(!parses(" , ,"));
    CHECK(!parses("12"));
    CHECK(!parses("\"12"));
    CHECK(!parses("\"1\" \"2\""));
    CHECK(!parses("W/"));
    CHECK(!parses("w/\"1\""));
    CHECK(!parses("*, \"1\""));
    CHECK(!parses("\"1\", *"));
    CHECK(!parses("\"a b\""));       /* no spaces inside */
    CHECK(!parses("\"a\"b\""));
    CHECK(parses("\"\x80\xff\""));   /* obs-text */
    /* more tags than are kept */
    char many[ETAG_COND_MAX * 6 + 8] = "";
    for (int i = 0; i <= ETAG_COND_MAX; i++)
        strcat(many, i ? ",\"1\"" : "\"1\"");
    CHECK(!parses(many));
    /* a tag too long to be ours is accepted, and never matches */
    CHECK(parses("\"0123456789012345678901234567890123456789012345678901234567890\""));
}

static void test_none_match_weak_comparison(void)
{
    const char *e = "\"12\"";
    CHECK(etag_none_match("\"12\"", e));
    CHECK(etag_none_match("W/\"12\"", e)); /* weak comparison: W/ is ignored */
    CHECK(etag_none_match("\"1\", W/\"12\"", e));
    CHECK(etag_none_match(" , \"x\" ,\t\"12\" ,", e));
    CHECK(etag_none_match("*", e));
    CHECK(etag_none_match(" * ", e));
    CHECK(!etag_none_match(NULL, e));
    CHECK(!etag_none_match("", e));
    CHECK(!etag_none_match("\"1\"", e));
    CHECK(!etag_none_match("\"123\"", e));
    CHECK(!etag_none_match("12", e));
    CHECK(!etag_none_match("*, \"12\"", e));   /* malformed: ignored */
    CHECK(!etag_none_match("\"12\" \"13\"", e));
    CHECK(!etag_none_match("\"12", e));
    /* A malformed element anywhere makes the whole field malformed, even
     * when an earlier (or later) element would match. */
    CHECK(!etag_none_match("\"12\", bogus", e));
    CHECK(!etag_none_match("bogus, \"12\"", e));
    CHECK(!etag_none_match("\"12\", \"13", e));
    CHECK(!etag_none_match("\"12\", *", e));
    CHECK(!etag_none_match("\"12\", W/", e));
}

static void test_body_tag(void)
{
    char a[ETAG_BUF], b[ETAG_BUF], c[ETAG_BUF];
    etag_of_bytes(a, sizeof a, "{\"x\":1}", 7);
    etag_of_bytes(b, sizeof b, "{\"x\":1}", 7);
    etag_of_bytes(c, sizeof c, "{\"x\":2}", 7);
    CHECK_EQ_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK_EQ_INT((long)strlen(a), 24); /* quotes around 22 base64url characters */
    CHECK(a[0] == '"' && a[23] == '"');
    for (int i = 1; i < 23; i++)
        CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
    etag_cond cond;
    CHECK(etag_cond_parse(a, &cond) && etag_cond_holds(&cond, a)); /* a valid strong tag */
    CHECK(etag_none_match(a, a));
    etag_of_bytes(a, sizeof a, NULL, 0); /* an empty body has one too */
    CHECK_EQ_INT((long)strlen(a), 24);
}

static void test_zone_mark(void)
{
    char a[ETAG_BUF] = "\"12\"", b[ETAG_BUF] = "\"12\"", c[ETAG_BUF] = "\"12.7\"";
    etag_add_zone(a, sizeof a, "Europe/Berlin");
    etag_add_zone(b, sizeof b, "America/New_York");
    etag_add_zone(c, sizeof c, "Europe/Berlin");
    CHECK_EQ_INT((long)strlen(a), 12); /* "12.z" and 6 base64url characters, quoted */
    CHECK(strncmp(a, "\"12.z", 5) == 0 && a[11] == '"');
    CHECK(strcmp(a, b) != 0);
    CHECK(strncmp(c, "\"12.7.z", 7) == 0 && strcmp(c + 7, a + 5) == 0);
    /* a strong tag of our own form: If-Match and If-None-Match take it */
    CHECK(holds(a, "\"12\""));
    CHECK(holds(b, "\"12\""));   /* the zone changed since: the revision did not */
    CHECK(holds(c, "\"12.7\""));
    CHECK(!holds(a, "\"13\""));
    CHECK(!holds(a, "\"1\""));
    CHECK(!holds("\"12.z\"", "\"12\""));
    CHECK(!holds("\"12.zab!\"", "\"12\""));
    CHECK(!holds("\"12.7\"", "\"12\""));
    CHECK(!holds("\"123.zabc\"", "\"12\""));
    CHECK(etag_none_match(a, a));
}

static void test_if_none_match_on_change(void)
{
    etag_cond c;
    CHECK(etag_cond_parse(NULL, &c) && etag_cond_parse_none(NULL, &c));
    CHECK(!etag_cond_sent(&c));
    CHECK(etag_cond_failed(&c, "\"5\"") == NULL);
    CHECK(etag_cond_parse(NULL, &c) && etag_cond_parse_none("*", &c));
    CHECK(etag_cond_sent(&c));
    CHECK_EQ_STR(etag_cond_failed(&c, "\"5\""), "If-None-Match");
    CHECK(etag_cond_parse_none("\"4\", W/\"5.zAbc123\"", &c));
    CHECK_EQ_STR(etag_cond_failed(&c, "\"5\""), "If-None-Match"); /* weak comparison */
    CHECK(etag_cond_failed(&c, "\"6\"") == NULL);
    CHECK(etag_cond_parse("\"6\"", &c) && etag_cond_parse_none("\"5\"", &c));
    CHECK_EQ_STR(etag_cond_failed(&c, "\"5\""), "If-Match"); /* If-Match first */
    CHECK(etag_cond_failed(&c, "\"6\"") == NULL);
    CHECK(!etag_cond_parse_none("bogus", &c));
    CHECK(!etag_cond_parse_none("\"5\", bogus", &c));
    CHECK(!etag_cond_parse_none("", &c));
}

int main(void)
{
    RUN(test_format);
    RUN(test_absent_and_star_hold);
    RUN(test_strong_comparison);
    RUN(test_malformed);
    RUN(test_none_match_weak_comparison);
    RUN(test_body_tag);
    RUN(test_zone_mark);
    RUN(test_if_none_match_on_change);
    return unit_summary();
}
