/*
 * test_webpath.c — which web file a request path names (http/webpath.h):
 * pages, files and their types, and every way a path is refused (400 for
 * what is malformed, 404 for what names nothing servable, 414 too long);
 * If-None-Match matching.
 */
#include "http/webpath.h"
#include "unit.h"

static webpath_result res(const char *raw)
{
    char out[WEBPATH_NAME_MAX];
    const char *type, *why;
    return webpath_resolve(raw, out, sizeof out, &type, &why);
}

/* The file name a path resolves to, or "" when it is refused. */
static const char *name(const char *raw)
{
    static char out[WEBPATH_NAME_MAX];
    const char *type, *why;
    if (webpath_resolve(raw, out, sizeof out, &type, &why) != WEBPATH_OK)
        return "";
    return out;
}

static void test_pages_and_files(void)
{
    CHECK_EQ_STR(name("/"), "index.html");
    CHECK_EQ_STR(name("/rebook"), "rebook.html");
    CHECK_EQ_STR(name("/rebook/0a1B-c_d"), "rebook.html");
    CHECK_EQ_STR(name("/login"), "login.html");
    CHECK_EQ_STR(name("/index.html"), "index.html");
    CHECK_EQ_STR(name("/app.js"), "app.js");
    CHECK_EQ_STR(name("/js/lib.min.mjs"), "js/lib.min.mjs");
    CHECK_EQ_STR(name("/%61pp.js"), "app.js"); /* an encoded letter is that letter */
    CHECK_EQ_STR(name("/fonts/a-b_c.woff2"), "fonts/a-b_c.woff2");
}

static void test_types(void)
{
    CHECK_EQ_STR(webpath_type("a.html"), "text/html; charset=utf-8");
    CHECK_EQ_STR(webpath_type("a.css"), "text/css; charset=utf-8");
    CHECK_EQ_STR(webpath_type("a.js"), "text/javascript; charset=utf-8");
    CHECK_EQ_STR(webpath_type("a.mjs"), "text/javascript; charset=utf-8");
    CHECK_EQ_STR(webpath_type("a.json"), "application/json");
    CHECK_EQ_STR(webpath_type("a.svg"), "image/svg+xml");
    CHECK_EQ_STR(webpath_type("a.png"), "image/png");
    CHECK_EQ_STR(webpath_type("a.ico"), "image/x-icon");
    CHECK_EQ_STR(webpath_type("a.woff2"), "font/woff2");
    CHECK_EQ_STR(webpath_type("a.txt"), "text/plain; charset=utf-8");
    CHECK_EQ_STR(webpath_type("a.webmanifest"), "application/manifest+json");
    CHECK(webpath_type("clinicbox.db") == NULL);
    CHECK(webpath_type("clinicbox.db-wal") == NULL);
    CHECK(webpath_type("notes.bak") == NULL);
    CHECK(webpath_type("key.pem") == NULL);
    CHECK(webpath_type("clinicbox.conf") == NULL);
    CHECK(webpath_type("a.HTML") == NULL); /* exact, lower case */
    CHECK(webpath_type("html") == NULL);
    CHECK(webpath_type(".html") == NULL);
    CHECK(webpath_type("dir.js/x") == NULL);
}

static void test_not_found(void)
{
    const char *paths[] = {
        "/.env", "/.git/config", "/sub/.hidden.js", "/..", "/../index.html", "/a/../index.html",
        "/./index.html", "/%2e%2e/index.html", "/%2E%2E", "/.%2e/x.js", "//index.html",
        "/sub/", "/index.html/", "/sub//a.js", "/secret.db", "/clinicbox.db-wal", "/notes.bak",
        "/a b.js", "/a~.js", "/a;b.js", "/a%20b.js", "/a:b.js", "/x.html%3F", "/rebook/a.b/c",
        "/rebook/a/b", "/a/b", "/sub/page", "/index.", "/a.js.bak",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        webpath_result r = res(paths[i]);
        if (r != WEBPATH_NOT_FOUND)
            fprintf(stderr, "  %s -> %d\n", paths[i], (int)r);
        CHECK(r == WEBPATH_NOT_FOUND);
    }
    char seg[300] = "/";
    memset(seg + 1, 'a', 256);
    strcpy(seg + 257, ".js");
    CHECK(res(seg) == WEBPATH_NOT_FOUND); /* a segment longer than a file name */
}

static void test_bad(void)
{
    const char *paths[] = {
        "/x%00.html", "/index.html%00", "/%00", "/a%2fb.js", "/a%2Fb.js", "/..%2f..%2fetc",
        "/a\\b.js", "/a%5cb.js", "/%", "/%4", "/%zz", "/%4g.js", "/a%0a.js", "/a%7f.js",
        "/%c3%a4.js", "/\xc3\xa4.js", "index.html", "", "/a\tb",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        webpath_result r = res(paths[i]);
        if (r != WEBPATH_BAD)
            fprintf(stderr, "  %s -> %d\n", paths[i], (int)r);
        CHECK(r == WEBPATH_BAD);
    }
    CHECK(res(NULL) == WEBPATH_BAD);
    char out[WEBPATH_NAME_MAX];
    const char *type, *why;
    CHECK(webpath_resolve("/%00", out, sizeof out, &type, &why) == WEBPATH_BAD);
    CHECK(why && *why);
}

static void test_too_long(void)
{
    char p[WEBPATH_MAX_URI + 2];
    p[0] = '/';
    memset(p + 1, 'a', WEBPATH_MAX_URI);
    p[WEBPATH_MAX_URI + 1] = '\0';
    CHECK(res(p) == WEBPATH_TOO_LONG);
    /* exactly the limit: an ordinary (unknown) name */
    p[WEBPATH_MAX_URI] = '\0';
    CHECK(res(p) == WEBPATH_NOT_FOUND);
    /* a small output buffer serves nothing */
    char out[8];
    const char *type, *why;
    CHECK(webpath_resolve("/", out, sizeof out, &type, &why) == WEBPATH_NOT_FOUND);
}

static void test_etag_match(void)
{
    const char *e = "\"20-abc\"";
    CHECK(webpath_etag_match("\"20-abc\"", e));
    CHECK(webpath_etag_match("W/\"20-abc\"", e));
    CHECK(webpath_etag_match("\"x\", \"20-abc\"", e));
    CHECK(webpath_etag_match(" \"x\" ,W/\"20-abc\" ", e));
    CHECK(webpath_etag_match("*", e));
    CHECK(!webpath_etag_match(NULL, e));
    CHECK(!webpath_etag_match("", e));
    CHECK(!webpath_etag_match("\"20-abd\"", e));
    CHECK(!webpath_etag_match("20-abc", e));
    CHECK(!webpath_etag_match("\"20-abc\"x", e));
    CHECK(!webpath_etag_match("**", e));
}

int main(void)
{
    RUN(test_pages_and_files);
    RUN(test_types);
    RUN(test_not_found);
    RUN(test_bad);
    RUN(test_too_long);
    RUN(test_etag_match);
    return unit_summary();
}
