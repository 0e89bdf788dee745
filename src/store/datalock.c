/*
 * datalock.c — see datalock.h. The description is one line of text:
 * "pid 4242, clinicbox serve, started 2026-12-07T14:00:00Z, on 0.0.0.0:443".
 * It is written after the lock is taken, so a reader that finds the file
 * locked but still empty (the holder is starting) says so.
 *
 * The lock is an open-file-description lock (fcntl F_OFD_SETLK): like
 * flock(2) it belongs to the open file and ends with it, and F_OFD_GETLK
 * lets `datalock_held` look without taking it even for a moment, so that a
 * look never makes a starting server fail.
 */
#include "store/datalock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct datalock {
    int fd;
};

static int ofd_lock(int fd, int cmd, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int rc = fcntl(fd, cmd, &fl);
    if (rc == 0 && cmd == F_OFD_GETLK)
        return fl.l_type == F_UNLCK ? 0 : 1;
    return rc;
}

static void lock_path(const char *dir, char *out, size_t len)
{
    snprintf(out, len, "%s/clinicbox.lock", dir);
}

/* The holder's description, or a placeholder while it is being written. */
static void read_holder(int fd, char *out, size_t outlen)
{
    ssize_t n = pread(fd, out, outlen - 1, 0);
    if (n <= 0) {
        snprintf(out, outlen, "a clinicbox that is starting");
        return;
    }
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

datalock_t *datalock_take(const char *dir, const char *command, const char *where, char *err,
                          size_t errlen)
{
    char path[700], holder[400];
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    lock_path(dir, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    /* root (an installer's migrate, an operator's restore) leaves the file
     * to the directory's owner, the service's user, who must open it too */
    struct stat st;
    if (geteuid() == 0 && stat(dir, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) != 0) {
        /* not fatal: the lock itself works; the service would say why it cannot open it */
    }
    if (ofd_lock(fd, F_OFD_SETLK, F_WRLCK) != 0) {
        int e = errno;
        if (e == EAGAIN || e == EACCES) {
            read_holder(fd, holder, sizeof holder);
            snprintf(err, errlen,
                     "the data directory %s is in use by %s; stop that one first (one data "
                     "directory, one server)",
                     dir, holder);
        } else {
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        }
        close(fd);
        return NULL;
    }
    time_t now = time(NULL);
    struct tm tm;
    char started[32];
    gmtime_r(&now, &tm);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(holder, sizeof holder, "pid %ld, clinicbox %s, started %s%s%s\n",
                     (long)getpid(), command, started, where ? ", on " : "", where ? where : "");
    if (n < 0 || (size_t)n >= sizeof holder)
        n = (int)strlen(holder);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, holder, (size_t)n, 0) != n) {
        /* the lock holds anyway; only the description is missing */
    }
    datalock_t *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->fd = fd;
    return l;
}

void datalock_release(datalock_t *l)
{
    if (!l)
        return;
    /* the file stays: removing it would race with a process about to lock it */
    if (ftruncate(l->fd, 0) != 0) {
        /* nothing to do: closing releases the lock */
    }
    close(l->fd);
    free(l);
}

bool datalock_held(const char *dir, char *out, size_t outlen)
{
    char path[700];
    lock_path(dir, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    bool held = ofd_lock(fd, F_OFD_GETLK, F_WRLCK) == 1;
    if (held)
        read_holder(fd, out, outlen);
    close(fd);
    return held;
}
