/*
 * chown_shim.c - LD_PRELOAD shim for auditd on the faultfs mount only.
 *
 * tests/helpers/faultfs.c has no chown operation, so chown(2) and fchown(2)
 * on its mount fail with ENOSYS, and auditd 3.0.9 exits (status 1) when it
 * cannot chown its log directory and log file to log_group. Every file the
 * benchmark creates is already root's, so this shim turns that one error
 * into success and changes nothing else; auditd's hot path never calls it.
 * Build: gcc -std=gnu11 -O2 -shared -fPIC -o chown_shim.so bench/chown_shim.c -ldl
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

int
chown(const char *path, uid_t uid, gid_t gid)
{
	static int (*real)(const char *, uid_t, gid_t);
	int rc;

	if (real == NULL && (real = (int (*)(const char *, uid_t, gid_t))dlsym(RTLD_NEXT, "chown")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	rc = real(path, uid, gid);
	if (rc < 0 && errno == ENOSYS)
		return 0;
	return rc;
}

int
fchown(int fd, uid_t uid, gid_t gid)
{
	static int (*real)(int, uid_t, gid_t);
	int rc;

	if (real == NULL && (real = (int (*)(int, uid_t, gid_t))dlsym(RTLD_NEXT, "fchown")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	rc = real(fd, uid, gid);
	if (rc < 0 && errno == ENOSYS)
		return 0;
	return rc;
}
