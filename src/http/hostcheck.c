/* hostcheck.c — see hostcheck.h. The list is written once at start and only
 * read afterwards. An address literal that is not on it is looked up among
 * the interfaces' addresses as they are at that moment (getifaddrs, a
 * netlink query): a box that got its DHCP lease after it started, or a new
 * one later, answers on its new address without a restart. */
#include "http/hostcheck.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"

#define HOST_MAX 256

static char (*names)[HOST_MAX];
static int nnames, cap;

static void add(const char *name, size_t len)
{
    while (len && (*name == ' ' || *name == '\t')) {
        name++;
        len--;
    }
    while (len && (name[len - 1] == ' ' || name[len - 1] == '\t' || name[len - 1] == '.'))
        len--;
    if (len == 0 || len >= HOST_MAX)
        return;
    if (nnames == cap) {
        int ncap = cap ? cap * 2 : 32;
        void *n = realloc(names, sizeof *names * (size_t)ncap);
        if (!n)
            return;
        names = n;
        cap = ncap;
    }
    memcpy(names[nnames], name, len);
    names[nnames][len] = '\0';
    nnames++;
}

static void add_str(const char *s)
{
    add(s, strlen(s));
}

/* The host part of "host:port", "[v6]:port" or a URL's authority. */
static bool host_part(const char *hp, char *out, size_t len)
{
    const char *end;
    if (*hp == '[') {
        end = strchr(hp, ']');
        if (!end)
            return false;
        hp++;
    } else {
        end = strchr(hp, ':');
        if (!end)
            end = hp + strlen(hp);
    }
    size_t n = (size_t)(end - hp);
    if (n == 0 || n >= len)
        return false;
    memcpy(out, hp, n);
    out[n] = '\0';
    return true;
}

static void add_interfaces(void)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0)
        return;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        char buf[INET6_ADDRSTRLEN];
        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family == AF_INET &&
            inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, buf,
                      sizeof buf))
            add_str(buf);
        else if (i->ifa_addr->sa_family == AF_INET6 &&
                 inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr,
                           buf, sizeof buf))
            add_str(buf);
    }
    freeifaddrs(ifa);
}

void hostcheck_init(const struct config *cfg)
{
    char buf[HOST_MAX + 8], host[HOST_MAX];
    hostcheck_free();
    add_str("localhost");
    add_str("127.0.0.1");
    add_str("::1");
    if (gethostname(buf, sizeof buf - 7) == 0) {
        buf[sizeof buf - 7] = '\0';
        add_str(buf);
        strcat(buf, ".local");
        add_str(buf);
    }
    add_interfaces();
    if (host_part(cfg->listen, host, sizeof host))
        add_str(host);
    const char *pu = strstr(cfg->public_url, "://");
    if (pu) {
        char auth[HOST_MAX];
        snprintf(auth, sizeof auth, "%.*s", (int)strcspn(pu + 3, "/?#"), pu + 3);
        if (host_part(auth, host, sizeof host))
            add_str(host);
    }
    for (const char *p = cfg->hostnames; *p;) {
        size_t n = strcspn(p, ",");
        add(p, n);
        p += n;
        if (*p == ',')
            p++;
    }
    log_debug("http", "answering to %d names and addresses of this box", nnames);
}

void hostcheck_free(void)
{
    free(names);
    names = NULL;
    nnames = cap = 0;
}

/* h is an IPv4 or IPv6 literal that one of the box's interfaces has now. */
static bool interface_has_now(const char *h)
{
    unsigned char want[16];
    int fam;
    if (inet_pton(AF_INET, h, want) == 1)
        fam = AF_INET;
    else if (inet_pton(AF_INET6, h, want) == 1)
        fam = AF_INET6;
    else
        return false;
    struct ifaddrs *ifa = NULL;
    bool found = false;
    if (getifaddrs(&ifa) != 0)
        return false;
    for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != fam)
            continue;
        if (fam == AF_INET)
            found = memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, want, 4) == 0;
        else
            found = memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, want, 16) == 0;
    }
    freeifaddrs(ifa);
    return found;
}

bool hostcheck_host_ok(const char *host)
{
    char h[HOST_MAX];
    if (!host)
        return true;
    if (!host_part(host, h, sizeof h))
        return false;
    size_t n = strlen(h);
    if (n && h[n - 1] == '.') /* "name." is the same name */
        h[n - 1] = '\0';
    for (int i = 0; i < nnames; i++)
        if (strcasecmp(names[i], h) == 0)
            return true;
    return interface_has_now(h);
}

bool hostcheck_origin_ok(const char *origin, const char *host, bool tls)
{
    if (!origin)
        return true;
    const char *scheme = tls ? "https://" : "http://";
    size_t sl = strlen(scheme);
    if (!host || strncasecmp(origin, scheme, sl) != 0)
        return false; /* also "null" (sandboxed frames, file:) */
    return strcasecmp(origin + sl, host) == 0;
}
