/* stage.c: output that appears whole or not at all: a folder staged beside its destination, files via unique temps. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/codegen.h"

void cg_remove_tree(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= (int)sizeof p)
            continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            cg_remove_tree(p);
        else
            unlink(p);
    }
    closedir(dp);
    rmdir(dir);
}

/* A new file only this process can have made: O_EXCL refuses a name someone
 * planted (a symlink to a file they want overwritten), and the random suffix
 * means a stale temp from a killed run never blocks the next one. */
FILE *cg_create_temp(const char *path, char *tmp, size_t len, int exec)
{
    if (snprintf(tmp, len, "%s.tmp-XXXXXX", path) >= (int)len) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return NULL;
    /* mkstemp makes 0600; a generated file gets the usual umask-filtered mode */
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, (exec ? 0777 : 0666) & ~um) < 0) {
        close(fd);
        unlink(tmp);
        return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
    }
    return f;
}

/* Moves every entry of `from` into `to`, merging subfolders; rename() replaces
 * a file (or a symlink, never its target) atomically. */
static int move_into(const char *from, const char *to, Diag *d)
{
    DIR *dp = opendir(from);
    if (!dp)
        return ir_error(d, "cannot read '%s': %s", from, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char src[PATH_MAX], dst[PATH_MAX];
        if (snprintf(src, sizeof src, "%s/%s", from, de->d_name) >= (int)sizeof src ||
            snprintf(dst, sizeof dst, "%s/%s", to, de->d_name) >= (int)sizeof dst) {
            rc = ir_error(d, "path too long: '%s/%s'", to, de->d_name);
            break;
        }
        struct stat s_src, s_dst;
        if (lstat(src, &s_src) == 0 && S_ISDIR(s_src.st_mode) && lstat(dst, &s_dst) == 0 &&
            S_ISDIR(s_dst.st_mode))
            rc = move_into(src, dst, d);
        else if (rename(src, dst))
            rc = ir_error(d, "cannot write '%s': %s", dst, strerror(errno));
    }
    closedir(dp);
    return rc;
}

/* A message about a staged file names the file the user asked for. */
static void unstage_message(Diag *d, const char *stage, const char *dest, size_t dest_len)
{
    char *p = strstr(d->msg, stage);
    if (!p)
        return;
    char rest[sizeof d->msg];
    snprintf(rest, sizeof rest, "%s", p + strlen(stage));
    snprintf(p, sizeof d->msg - (size_t)(p - d->msg), "%.*s%s", (int)dest_len, dest, rest);
}

int cg_emit_folder(Graph *g, const CgOptions *o, Diag *d)
{
    const char *dest = o->out_dir;
    struct stat st;
    if (lstat(dest, &st) == 0 && !S_ISDIR(st.st_mode))
        return ir_error(d, "cannot write into '%s': it exists and is not a folder", dest);
    /* beside the destination, so the final renames stay on one file system */
    char stage[PATH_MAX];
    size_t n = strlen(dest);
    while (n > 1 && dest[n - 1] == '/')
        n--;
    if (snprintf(stage, sizeof stage, "%.*s.onnxcc-XXXXXX", (int)n, dest) >= (int)sizeof stage)
        return ir_error(d, "path too long: '%s'", dest);
    if (!mkdtemp(stage))
        return ir_error(d, "cannot create a folder beside '%s': %s", dest, strerror(errno));
    CgOptions staged = *o;
    staged.out_dir = stage;
    int rc = cg_emit_model(g, &staged, d);
    if (rc)
        unstage_message(d, stage, dest, n);
    if (rc == 0) {
        if (lstat(dest, &st) != 0) {
            /* the usual case, one atomic step; the folder gets the umask's mode */
            mode_t um = umask(0);
            umask(um);
            if (chmod(stage, 0777 & ~um) || rename(stage, dest))
                rc = ir_error(d, "cannot write '%s': %s", dest, strerror(errno));
        } else {
            rc = move_into(stage, dest, d);
        }
    }
    cg_remove_tree(stage);
    return rc;
}
