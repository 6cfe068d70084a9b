/*
 * notify.c - this file is the only place that talks to systemd: it wraps
 * sd_notify() so the rest of the daemon has no systemd calls.
 */
#include "build_config.h"

#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "mono.h"
#include "notify.h"

static void
send_state(const char *head, const char *status)
{
	char buf[1024];

	if (status != NULL)
		snprintf(buf, sizeof(buf), "%s%sSTATUS=%s", head, *head ? "\n" : "", status);
	else
		snprintf(buf, sizeof(buf), "%s", head);
	(void)sd_notify(0, buf);
}

void
notify_ready(const char *status)
{
	send_state("READY=1", status);
}

void
notify_reloading(void)
{
	char buf[128];

	/* MONOTONIC_USEC lets newer managers time the reload. */
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)(mono_ns() / 1000));
	(void)sd_notify(0, buf);
}

void
notify_stopping(const char *status)
{
	send_state("STOPPING=1", status);
}

void
notify_status(const char *status)
{
	send_state("", status);
}

void
notify_watchdog(void)
{
	(void)sd_notify(0, "WATCHDOG=1");
}

uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

void
notify_fdstore_remove(const char *name)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	(void)sd_notify(0, buf);
}

int
notify_fdstore(int fd, const char *name)
{
	char buf[256];
	int rc;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return -ENOTCONN;
	notify_fdstore_remove(name);
	snprintf(buf, sizeof(buf), "FDSTORE=1\nFDNAME=%s", name);
	rc = sd_pid_notify_with_fds(0, 0, buf, &fd, 1);
	return rc > 0 ? 0 : rc == 0 ? -ENOTCONN : rc;
}

void
notify_listen_fds(const char *const *names, int *fds, int n)
{
	char **got = NULL;
	int k;

	for (int i = 0; i < n; i++)
		fds[i] = -1;
	k = sd_listen_fds_with_names(1, &got);
	for (int j = 0; j < k; j++) {
		int fd = SD_LISTEN_FDS_START + j;
		bool used = false;

		for (int i = 0; i < n && got && got[j]; i++)
			if (fds[i] < 0 && strcmp(got[j], names[i]) == 0) {
				fds[i] = fd;
				used = true;
			}
		if (!used)
			close(fd);	/* not ours to keep */
		free(got ? got[j] : NULL);
	}
	free(got);
}
