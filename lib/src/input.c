/* Opening an input file for the streaming readers: "-" is stdin; a directory is refused; the
 * size of a regular file is kept for progress reports. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int wg_open_input(wg_ctx *ctx, const char *path, FILE **fp, uint64_t *total)
{
    *total = 0;
    *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!*fp) return wg_fail(ctx, WG_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(*fp), &st) != 0)
        return wg_fail(ctx, WG_EIO, "cannot stat %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return wg_fail(ctx, WG_EIO, "cannot read %s: a directory", path);
    if (S_ISREG(st.st_mode)) *total = (uint64_t)st.st_size;
    return WG_OK;
}
