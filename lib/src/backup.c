/* Backups of a store and restoring one (see wangge/store.h and docs/backup.md).
 *
 * Backup. The source connection opens a read transaction first, so every step of SQLite's
 * online backup reads the same snapshot: in WAL mode (every store wangge writes) other
 * connections keep committing meanwhile, and nothing makes the copy restart. Pages go in steps
 * of BACKUP_STEP_PAGES into OUT.tmp; the copy is then switched from WAL to a rollback journal so
 * that it is one self-contained file, synced, checked, and renamed to OUT (the directory synced
 * after). A crash at any point leaves OUT as it was (a previous backup stays whole) and at most
 * an OUT.tmp, which the next backup removes first.
 *
 * Restore. The backup is copied byte for byte into a temporary file beside the store (the
 * rename below must stay within one file system), synced, made a rollback-journal file and
 * checked in full; only a copy that passes is renamed over the store. Before the rename the
 * store, if it exists, is opened and switched to a rollback journal: SQLite refuses that while
 * another connection has the file open in WAL mode (a running server), so such a store is never
 * replaced under its users, and when it succeeds the store's WAL has been checkpointed and
 * removed, so no stale -wal can be replayed into the restored file. Any -wal, -shm or -journal
 * left beside the store is removed before the rename. */
#include "wangge/store.h"
#include "store_schema.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 256 pages (1 MiB at 4 KiB pages) per step: short steps, few calls. */
#define BACKUP_STEP_PAGES 256
/* How long a busy step is retried (SQLite returns BUSY while another connection recovers the
 * WAL index, for instance), in 10 ms sleeps. */
#define BACKUP_BUSY_TRIES 1000
#define PATH_MAX_LEN 4096

/* Prefixes the message already on ctx: "<prefix>: <message><suffix>" (the message is copied
 * first, as wg_fail writes over it). Returns rc. */
static int fail_wrap(wg_ctx *ctx, int rc, const char *prefix, const char *suffix)
{
    char keep[512];
    snprintf(keep, sizeof keep, "%s", wg_errmsg(ctx));
    return wg_fail(ctx, rc, "%s: %s%s", prefix, keep, suffix);
}

/* ---------------------------------------------------------------- files */

/* Syncs a file or directory to disk; 0 or -1 with errno. */
static int sync_path(const char *path, int is_dir)
{
    int fd = open(path, is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

/* The directory part of path ("." when there is none). */
static void dir_of(const char *path, char *dir, size_t n)
{
    snprintf(dir, n, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, n, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
}

/* Removes a database file and the files SQLite keeps beside it (missing ones are fine). */
static void remove_db_files(const char *path)
{
    static const char *const SUFFIX[] = {"", "-journal", "-wal", "-shm"};
    char p[PATH_MAX_LEN + 16];
    for (size_t i = 0; i < sizeof SUFFIX / sizeof *SUFFIX; i++) {
        snprintf(p, sizeof p, "%s%s", path, SUFFIX[i]);
        unlink(p);
    }
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Switches the database at path to a rollback journal (which checkpoints and removes its WAL).
 * *in_use is set when another connection holds it open in WAL mode. Returns WG_OK, or
 * WG_EDATA with the reason when the file is not a database SQLite can open. */
static int to_rollback_journal(wg_ctx *ctx, const char *path, int *in_use)
{
    sqlite3 *db = NULL;
    *in_use = 0;
    int rc = WG_OK;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        rc = wg_fail(ctx, WG_EDATA, "%s", db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_stmt *st = NULL;
    if (rc == WG_OK) {
        sqlite3_busy_timeout(db, 2000);
        int s = sqlite3_prepare_v2(db, "PRAGMA journal_mode = DELETE", -1, &st, NULL);
        if (s == SQLITE_OK) s = sqlite3_step(st);
        if ((s & 0xff) == SQLITE_BUSY || (s & 0xff) == SQLITE_LOCKED)
            *in_use = 1; /* another connection holds it in WAL mode */
        else if (s != SQLITE_ROW)
            rc = wg_fail(ctx, WG_EDATA, "%s", sqlite3_errmsg(db));
    }
    if (rc == WG_OK && !*in_use) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        *in_use = !mode || strcmp(mode, "delete") != 0;
    }
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return rc;
}

/* Opens a copy read-only on a context of its own and checks it. WG_EDATA (with the reason) if
 * it is not a store this build can read. */
static int check_copy(wg_ctx *ctx, const char *path, unsigned flags, wg_check_report *out)
{
    wg_ctx *c = wg_ctx_new();
    if (!c) return wg_fail(ctx, WG_ENOMEM, "out of memory");
    int rc = wg_store_open(c, path, WG_STORE_READONLY);
    if (rc != WG_OK) rc = wg_fail(ctx, WG_EDATA, "%s", wg_errmsg(c));
    if (rc == WG_OK) {
        rc = wg_store_check(c, flags, out);
        if (rc != WG_OK) wg_fail(ctx, rc, "%s", wg_errmsg(c));
    }
    wg_ctx_free(c);
    return rc;
}

/* ---------------------------------------------------------------- backup */

/* Copies the source's pinned snapshot into dst in steps. */
static int copy_pages(wg_ctx *ctx, sqlite3 *dst, const char *tmp, int64_t *pages)
{
    int rc = wg_exec(ctx, "BEGIN; SELECT count(*) FROM sqlite_master;");
    if (rc != WG_OK) return rc;
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", ctx->db, "main");
    if (!b) {
        rc = wg_fail(ctx, WG_EIO, "cannot start the backup into %s: %s", tmp, sqlite3_errmsg(dst));
        wg_rollback(ctx);
        return rc;
    }
    int s, tries = 0;
    do {
        s = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
        if ((s == SQLITE_BUSY || s == SQLITE_LOCKED) && ++tries < BACKUP_BUSY_TRIES) {
            sqlite3_sleep(10);
            s = SQLITE_OK;
        }
    } while (s == SQLITE_OK);
    *pages = sqlite3_backup_pagecount(b);
    int f = sqlite3_backup_finish(b);
    wg_rollback(ctx); /* ends the read transaction */
    if (s != SQLITE_DONE || f != SQLITE_OK)
        return wg_fail(ctx, WG_EIO, "backup into %s failed: %s", tmp, sqlite3_errmsg(dst));
    return WG_OK;
}

/* Writes the copy into tmp and makes it a self-contained, synced rollback-journal file. */
static int write_copy(wg_ctx *ctx, const char *tmp, int64_t *pages)
{
    sqlite3 *dst = NULL;
    int rc = WG_OK;
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        rc = wg_fail(ctx, WG_EIO, "cannot create %s: %s", tmp,
                     !dst                        ? "out of memory"
                     : sqlite3_system_errno(dst) ? strerror(sqlite3_system_errno(dst))
                                                 : sqlite3_errmsg(dst));
    if (rc == WG_OK) rc = copy_pages(ctx, dst, tmp, pages);
    char *msg = NULL;
    if (rc == WG_OK &&
        sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, &msg) != SQLITE_OK)
        rc = wg_fail(ctx, WG_EIO, "cannot finish %s: %s", tmp, msg ? msg : sqlite3_errmsg(dst));
    sqlite3_free(msg);
    if (sqlite3_close_v2(dst) != SQLITE_OK && rc == WG_OK)
        rc = wg_fail(ctx, WG_EIO, "cannot close %s", tmp);
    if (rc == WG_OK && sync_path(tmp, 0) != 0)
        rc = wg_fail(ctx, WG_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    return rc;
}

int wg_store_backup(wg_ctx *ctx, const char *out_path, int overwrite, int full_check,
                    int64_t *pages, wg_check_report *check)
{
    memset(check, 0, sizeof *check);
    int64_t copied = 0;
    if (pages) *pages = 0;
    if (!ctx->db) return wg_fail(ctx, WG_EINVAL, "no store open");
    char tmp[PATH_MAX_LEN], dir[PATH_MAX_LEN];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", out_path) >= sizeof tmp)
        return wg_fail(ctx, WG_EINVAL, "backup path too long");
    struct stat so, ss;
    const char *src = sqlite3_db_filename(ctx->db, "main");
    if (stat(out_path, &so) == 0) {
        if (src && stat(src, &ss) == 0 && same_file(&so, &ss))
            return wg_fail(ctx, WG_EINVAL, "%s is the store itself", out_path);
        if (!S_ISREG(so.st_mode))
            return wg_fail(ctx, WG_ECONFLICT, "%s exists and is not a regular file", out_path);
        if (!overwrite)
            return wg_fail(ctx, WG_ECONFLICT, "%s exists: use --force to replace it", out_path);
    }
    remove_db_files(tmp); /* what an interrupted backup left */
    int rc = write_copy(ctx, tmp, &copied);
    if (rc == WG_OK) {
        rc = check_copy(ctx, tmp, full_check ? 0 : WG_CHECK_QUICK, check);
        if (rc == WG_EDATA) rc = fail_wrap(ctx, WG_ESTORE, "the copy cannot be read back", "");
    }
    if (rc == WG_OK && check->failed_structural) {
        char names[256];
        wg_check_report_failed(check, names, sizeof names);
        rc = wg_fail(ctx, WG_ESTORE, "the copy failed the integrity checks (%s): removed", names);
    }
    dir_of(out_path, dir, sizeof dir);
    if (rc == WG_OK && rename(tmp, out_path) != 0)
        rc = wg_fail(ctx, WG_EIO, "cannot rename %s to %s: %s", tmp, out_path, strerror(errno));
    if (rc == WG_OK && sync_path(dir, 1) != 0)
        rc = wg_fail(ctx, WG_EIO, "cannot sync directory %s: %s", dir, strerror(errno));
    if (rc != WG_OK) {
        remove_db_files(tmp);
        return rc;
    }
    if (pages) *pages = copied;
    return WG_OK;
}

/* ---------------------------------------------------------------- restore */

/* Copies the file at from into the open descriptor fd and syncs it. */
static int copy_file(wg_ctx *ctx, const char *from, int fd, const char *to)
{
    int in = open(from, O_RDONLY);
    if (in < 0) return wg_fail(ctx, WG_EIO, "cannot read %s: %s", from, strerror(errno));
    char buf[1 << 16];
    int rc = WG_OK;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = wg_fail(ctx, WG_EIO, "cannot read %s: %s", from, strerror(errno));
            break;
        }
        for (ssize_t off = 0; rc == WG_OK && off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0)
                rc = wg_fail(ctx, WG_EIO, "cannot write %s: %s", to, strerror(errno));
            else
                off += w;
        }
        if (rc != WG_OK) break;
    }
    close(in);
    if (rc == WG_OK && fsync(fd) != 0)
        rc = wg_fail(ctx, WG_EIO, "cannot sync %s: %s", to, strerror(errno));
    return rc;
}

/* Copies the backup beside the store into a new temporary file (its name into tmp), makes it a
 * rollback-journal file and checks it. */
static int stage_copy(wg_ctx *ctx, const char *backup, const char *store, mode_t mode, char *tmp,
                      size_t n, unsigned flags, wg_check_report *check)
{
    if ((size_t)snprintf(tmp, n, "%s.restore-XXXXXX", store) >= n) {
        tmp[0] = '\0';
        return wg_fail(ctx, WG_EINVAL, "store path too long");
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = wg_fail(ctx, WG_EIO, "cannot create a file beside %s: %s", store, strerror(errno));
        tmp[0] = '\0';
        return rc;
    }
    int rc = fchmod(fd, mode) == 0
                 ? WG_OK
                 : wg_fail(ctx, WG_EIO, "cannot set the mode of %s: %s", tmp, strerror(errno));
    if (rc == WG_OK) rc = copy_file(ctx, backup, fd, tmp);
    if (close(fd) != 0 && rc == WG_OK)
        rc = wg_fail(ctx, WG_EIO, "cannot write %s: %s", tmp, strerror(errno));
    int in_use = 0;
    char what[PATH_MAX_LEN + 64];
    snprintf(what, sizeof what, "%s is not a wangge store", backup);
    if (rc == WG_OK && to_rollback_journal(ctx, tmp, &in_use) != WG_OK)
        rc = fail_wrap(ctx, WG_EDATA, what, ": not restored");
    if (rc == WG_OK && sync_path(tmp, 0) != 0)
        rc = wg_fail(ctx, WG_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    if (rc == WG_OK && check_copy(ctx, tmp, 0, check) != WG_OK)
        rc = fail_wrap(ctx, WG_EDATA, what, ": not restored");
    char names[256];
    wg_check_report_failed(check, names, sizeof names);
    if (rc == WG_OK && check->failed_structural)
        rc = wg_fail(ctx, WG_EDATA, "%s is damaged (failed: %s): not restored", backup, names);
    if (rc == WG_OK && check->failed && !(flags & WG_RESTORE_ALLOW_FAULTS))
        rc = wg_fail(ctx, WG_EFAULTS,
                     "%s breaks the store's invariants (failed: %s): not restored"
                     " (--allow-faults restores it anyway)",
                     backup, names);
    return rc;
}

/* Makes sure nobody has the existing store open and leaves it without a WAL. */
static int release_store(wg_ctx *ctx, const char *store)
{
    int in_use = 0;
    if (to_rollback_journal(ctx, store, &in_use) != WG_OK) return WG_OK; /* damaged: replaced */
    if (in_use)
        return wg_fail(ctx, WG_ECONFLICT,
                       "%s is open in another process (a running wangge-server?): stop it first",
                       store);
    static const char *const SIDE[] = {"-wal", "-shm", "-journal"};
    char p[PATH_MAX_LEN + 16];
    for (size_t i = 0; i < sizeof SIDE / sizeof *SIDE; i++) {
        snprintf(p, sizeof p, "%s%s", store, SIDE[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            return wg_fail(ctx, WG_EIO, "cannot remove %s: %s", p, strerror(errno));
    }
    return WG_OK;
}

int wg_store_restore(wg_ctx *ctx, const char *backup, const char *store, unsigned flags,
                     wg_check_report *check)
{
    memset(check, 0, sizeof *check);
    struct stat sb, ss;
    if (stat(backup, &sb) != 0)
        return wg_fail(ctx, WG_EIO, "cannot read backup %s: %s", backup, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return wg_fail(ctx, WG_EDATA, "backup %s is not a regular file", backup);
    int exists = stat(store, &ss) == 0;
    if (exists && same_file(&sb, &ss))
        return wg_fail(ctx, WG_EINVAL, "the backup %s is the store itself", backup);
    if (exists && !S_ISREG(ss.st_mode))
        return wg_fail(ctx, WG_ECONFLICT, "%s exists and is not a regular file", store);
    if (exists && !(flags & WG_RESTORE_OVERWRITE))
        return wg_fail(ctx, WG_ECONFLICT, "store %s exists: use --force to replace it", store);
    char tmp[PATH_MAX_LEN + 16], dir[PATH_MAX_LEN];
    mode_t mode = exists ? (ss.st_mode & 0777) : 0644;
    int rc = stage_copy(ctx, backup, store, mode, tmp, sizeof tmp, flags, check);
    if (rc == WG_OK && exists) rc = release_store(ctx, store);
    dir_of(store, dir, sizeof dir);
    if (rc == WG_OK && rename(tmp, store) != 0)
        rc = wg_fail(ctx, WG_EIO, "cannot rename %s to %s: %s", tmp, store, strerror(errno));
    if (rc == WG_OK && sync_path(dir, 1) != 0)
        rc = wg_fail(ctx, WG_EIO, "cannot sync directory %s: %s", dir, strerror(errno));
    if (rc != WG_OK && tmp[0]) remove_db_files(tmp);
    return rc;
}
