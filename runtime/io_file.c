/* io_file.c: tensor files whatever their format: reading, writing atomically, byte order. */
/* POSIX, where there is one, lets the reader refuse devices and pipes and the
 * writer create its temp exclusively; elsewhere plain C99 stdio does. */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#define RT_POSIX 1
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Files beyond this are refused rather than half-read: a tensor this large is
 * more likely a wrong path than an input. */
#define FILE_CAP ((unsigned long long)4 << 30)

void rt_errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    if (!err || !err_len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

void rt_io_le(void *data, size_t n, size_t esize)
{
    const uint16_t one = 1;
    unsigned char *p = data;
    if (*(const unsigned char *)&one || esize < 2)
        return;
    for (size_t i = 0; i < n; i++, p += esize) {
        for (size_t a = 0, b = esize - 1; a < b; a++, b--) {
            unsigned char c = p[a];
            p[a] = p[b];
            p[b] = c;
        }
    }
}

int rt_io_read_file(const char *path, unsigned char **out, size_t *out_len, char *err,
                     size_t err_len)
{
    return rt_io_read_file_max(path, (size_t)-1, out, out_len, err, err_len);
}

/* Never reads more than max + 1 bytes (that one more tells a larger file),
 * whatever size the file claims: /dev/zero or a growing file cannot make it
 * allocate without bound. */
int rt_io_read_file_max(const char *path, size_t max, unsigned char **out, size_t *out_len,
                        char *err, size_t err_len)
{
    size_t limit = FILE_CAP < (unsigned long long)SIZE_MAX ? (size_t)FILE_CAP : SIZE_MAX - 1;
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (max < limit)
        limit = max;
    if (!f) {
        rt_errf(err, err_len, "%s: %s", path, strerror(errno));
        return RT_EIO;
    }
#ifdef RT_POSIX
    {
        struct stat st;
        if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
            rt_errf(err, err_len, "%s: not a regular file", path);
            fclose(f);
            return RT_EIO;
        }
        /* the size is only a hint: the loop below reads to EOF whatever it says */
        if (st.st_size >= 0 && (unsigned long long)st.st_size <= limit)
            cap = (size_t)st.st_size + 1;
    }
#endif
    for (;;) {
        if (len == cap) {
            size_t ncap = cap > limit / 2 ? limit + 1 : cap * 2;
            unsigned char *nb;
            if (len > limit)
                goto too_big;
            nb = realloc(buf, ncap);
            if (!nb)
                goto oom;
            buf = nb;
            cap = ncap;
        } else if (!buf) {
            buf = malloc(cap);
            if (!buf)
                goto oom;
        }
        size_t want = cap - len, got = fread(buf + len, 1, want, f);
        len += got;
        if (got < want) {
            if (ferror(f)) {
                rt_errf(err, err_len, "%s: %s", path, errno ? strerror(errno) : "read error");
                goto fail;
            }
            break;
        }
    }
    if (len > limit)
        goto too_big;
    fclose(f);
    *out = buf;
    *out_len = len;
    return RT_OK;
too_big:
    rt_errf(err, err_len, "%s: the file is larger than %llu bytes, more than %s", path,
            (unsigned long long)limit, limit == max ? "this input can be" : "onnxcc reads");
    goto fail;
oom:
    rt_errf(err, err_len, "%s: out of memory reading the file", path);
fail:
    free(buf);
    fclose(f);
    return RT_EIO;
}

/* A new file for writing that no one else has: on POSIX a unique name created
 * with O_EXCL and O_NOFOLLOW, so a planted file or symlink at the usual temp
 * name is never written through. */
static FILE *open_temp(const char *path, char **tmp_out)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 48);
    FILE *f = NULL;
    if (!tmp)
        return NULL;
#ifdef RT_POSIX
    static unsigned serial;
    for (int tries = 0; tries < 100 && !f; tries++) {
        snprintf(tmp, n + 48, "%s.tmp.%ld.%u", path, (long)getpid(), serial++);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            break;
        f = fdopen(fd, "wb");
        if (!f) {
            close(fd);
            remove(tmp);
        }
    }
#else
    snprintf(tmp, n + 48, "%s.tmp", path);
    f = fopen(tmp, "wb");
#endif
    if (!f)
        free(tmp);
    else
        *tmp_out = tmp;
    return f;
}

int rt_io_write_atomic(const char *path, const void *head, size_t head_len, const void *body,
                       size_t body_len, size_t esize)
{
    const uint16_t one = 1;
    char *tmp = NULL;
    FILE *f = open_temp(path, &tmp);
    int ok;
    if (!f)
        return RT_EIO;
    ok = fwrite(head, 1, head_len, f) == head_len;
    if (*(const unsigned char *)&one || esize < 2) {
        ok = ok && (!body_len || fwrite(body, 1, body_len, f) == body_len);
    } else {
        /* big-endian host: swap a copy, chunk by chunk (4096 is a multiple of any esize) */
        unsigned char chunk[4096];
        const unsigned char *b = body;
        for (size_t off = 0; ok && off < body_len; off += sizeof chunk) {
            size_t k = body_len - off < sizeof chunk ? body_len - off : sizeof chunk;
            memcpy(chunk, b + off, k);
            rt_io_le(chunk, k / esize, esize);
            ok = fwrite(chunk, 1, k, f) == k;
        }
    }
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        free(tmp);
        errno = e;
        return RT_EIO;
    }
    free(tmp);
    return RT_OK;
}

int rt_tensor_read(const char *path, RtTensor *t, char *err, size_t err_len)
{
    return rt_tensor_read_max(path, (size_t)-1, t, err, err_len);
}

int rt_tensor_read_max(const char *path, size_t max_bytes, RtTensor *t, char *err,
                       size_t err_len)
{
    unsigned char *buf;
    size_t len;
    int rc;
    memset(t, 0, sizeof *t);
    if (err && err_len)
        err[0] = 0;
    rc = rt_io_read_file_max(path, max_bytes, &buf, &len, err, err_len);
    if (rc)
        return rc;
    if (len >= 6 && memcmp(buf, "\x93NUMPY", 6) == 0)
        rc = rt_npy_parse(path, &buf, len, t, err, err_len);
    else
        rc = rt_pb_parse(path, &buf, len, t, err, err_len);
    free(buf);
    if (rc) {
        free(t->data);
        memset(t, 0, sizeof *t);
    }
    return rc;
}

void *rt_strings_pack(const char *const *s, size_t n)
{
    size_t bytes = n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(s[i]) + 1;
    char **p = malloc(bytes ? bytes : 1);
    if (!p)
        return NULL;
    char *o = (char *)(p + n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(s[i]) + 1;
        memcpy(o, s[i], len);
        p[i] = o;
        o += len;
    }
    return p;
}

void rt_tensor_free(RtTensor *t)
{
    if (!t)
        return;
    free(t->data);
    t->data = NULL;
    t->nbytes = 0;
}
