/* emitter.c: writing generated files: emitf() and write-to-a-unique-temp-then-rename. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "codegen/codegen.h"

int cg_open(Emitter *e, const char *dir, const char *file, Diag *d)
{
    memset(e, 0, sizeof *e);
    if (mkdir(dir, 0777) && errno != EEXIST)
        return ir_error(d, "cannot create folder '%s': %s", dir, strerror(errno));
    snprintf(e->path, sizeof e->path, "%s/%s", dir, file);
    e->f = cg_create_temp(e->path, e->tmp, sizeof e->tmp, 0);
    if (!e->f)
        return ir_error(d, "cannot write '%s': %s", e->path, strerror(errno));
    return 0;
}

void emitf(Emitter *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(e->f, fmt, ap) < 0 && !e->failed)
        e->failed = errno ? errno : EIO;
    va_end(ap);
}

void cg_write_bytes(Emitter *e, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, e->f) != n && !e->failed)
        e->failed = errno ? errno : EIO;
}

void cg_abort(Emitter *e)
{
    if (e->f)
        fclose(e->f);
    e->f = NULL;
    remove(e->tmp);
}

int cg_close(Emitter *e, Diag *d)
{
    int err = e->failed;
    if (!err && ferror(e->f))
        err = EIO;
    if (fclose(e->f) != 0 && !err)
        err = errno ? errno : EIO;
    e->f = NULL;
    if (!err && rename(e->tmp, e->path))
        err = errno;
    if (err) {
        remove(e->tmp);
        return ir_error(d, "cannot write '%s': %s", e->path, strerror(err));
    }
    return 0;
}
