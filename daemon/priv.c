/*
 * priv.c - this file drops the capabilities rauditd no longer needs once it
 * runs, and checks that files it trusts cannot be written by others.
 */
#include "build_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "priv.h"

/* Capabilities are at most 64 here (two 32-bit words). */
#define PRIV_WORDS	2

static int
capget_self(struct __user_cap_data_struct *data)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return syscall(SYS_capget, &hdr, data) < 0 ? -errno : 0;
}

/* Whether the calling thread has capability cap in its effective set. */
static int
priv_have(int cap)
{
	struct __user_cap_data_struct data[PRIV_WORDS];

	if (cap < 0 || cap >= 32 * PRIV_WORDS || capget_self(data) < 0)
		return 0;
	return (int)((data[cap / 32].effective >> (cap % 32)) & 1);
}

int
priv_drop(const int *keep, size_t n)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[PRIV_WORDS];
	int last = 0, rc;

	if ((rc = capget_self(data)) < 0)
		return rc;
	/* The bounding set first: it needs CAP_SETPCAP, dropped below. An
	 * unprivileged process (tests) has nothing to bound. */
	while (prctl(PR_CAPBSET_READ, last, 0, 0, 0) >= 0)
		last++;
	if (!priv_have(CAP_SETPCAP))
		last = 0;
	for (int cap = 0; cap < last; cap++) {
		bool kept = false;
		for (size_t i = 0; i < n; i++)
			if (keep[i] == cap)
				kept = true;
		if (!kept && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	}
	for (int w = 0; w < PRIV_WORDS; w++) {
		uint32_t mask = 0;
		for (size_t i = 0; i < n; i++)
			if (keep[i] / 32 == w)
				mask |= 1u << (keep[i] % 32);
		data[w].effective &= mask;
		data[w].permitted &= mask;
		data[w].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	/* No way back through exec of a setuid binary either. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int
priv_check_path(const char *path, const char *what, char *msg, size_t msglen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(msg, msglen, "%s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(msg, msglen, "%s %s is owned by uid %u, not root: refusing to trust it",
		    what, path, (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(msg, msglen, "%s %s is writable by %s (mode %04o): refusing to trust it; "
		    "chmod go-w it", what, path, (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}
