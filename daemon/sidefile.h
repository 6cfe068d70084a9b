/*
 * sidefile.h - replacing a small file beside the spool (cursor, status,
 * state report, metrics textfile) atomically, in a directory that someone
 * less privileged may be able to write.
 */
#ifndef RAUDITD_SIDEFILE_H
#define RAUDITD_SIDEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Replace the file at path with len bytes of text: a temporary file with a
 * random name in the same directory, created exclusively and never through
 * a link (so a planted symlink, hard link or FIFO is never opened), mode
 * 0644, then renamed over path. With sync the data and then the rename are
 * made durable (fdatasync of the file, fsync of the directory). Returns 0
 * or a negative errno; the temporary file is gone on failure. Does file
 * I/O: never on the receive path. Any thread.
 */
int sidefile_replace(const char *path, const void *text, size_t len, bool sync);

/*
 * Read a side file someone else writes (rauditd-ship's or
 * rauditd-dispatch's status) into a new NUL-terminated buffer of at most
 * max bytes (*text, free() it; more is cut): never through a link, only a
 * regular file, never blocking on a FIFO. Returns the length or a negative
 * errno (-EINVAL: not a regular file). Any thread but the receive path.
 */
ssize_t sidefile_read(const char *path, size_t max, char **text);

#endif
