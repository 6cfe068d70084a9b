/*
 * kaudit.c - this file sends control requests (status, settings, rules) to
 * the kernel over NETLINK_AUDIT and waits, bounded, for their answers.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <libaudit.h>

#include "kaudit.h"

/* Largest reply we expect to a control request (status, ack). */
#define KAUDIT_REPLY_MAX	(MAX_AUDIT_MESSAGE_LENGTH + NLMSG_HDRLEN + 64)

static _Atomic uint32_t kaudit_seq = 1;

/* The timeout lives in SO_RCVTIMEO, so every wait is bounded. */
int
kaudit_open(unsigned timeout_ms)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

void
kaudit_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int
send_req(int fd, uint16_t type, uint16_t flags, const void *data, size_t len,
    uint32_t *seqp)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	struct nlmsghdr nh;
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_len = (uint32_t)NLMSG_LENGTH(len);
	nh.nlmsg_type = type;
	nh.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	nh.nlmsg_seq = *seqp = atomic_fetch_add(&kaudit_seq, 1);
	iov[0].iov_base = &nh;
	iov[0].iov_len = NLMSG_HDRLEN;
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &to;
	mh.msg_namelen = sizeof(to);
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	do
		n = sendmsg(fd, &mh, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/*
 * One datagram into buf (KAUDIT_REPLY_MAX bytes): its length; 0 when this
 * receive brought nothing to look at (interrupted, or not from the kernel:
 * only recvfrom() saying port 0 makes it the kernel); or a negative errno,
 * -ETIMEDOUT when the socket's receive timeout ran out.
 */
static ssize_t
recv_kernel(int fd, char *buf)
{
	struct sockaddr_nl from = { .nl_pid = UINT32_MAX };
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, buf, KAUDIT_REPLY_MAX, 0, (struct sockaddr *)&from, &fl);

	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
	return from.nl_pid == 0 ? n : 0;
}

/*
 * Wait for the reply to seq: a message of want_type (copied to out) or an
 * NLMSG_ERROR. Messages for other sequence numbers are skipped.
 */
static int
wait_reply(int fd, uint32_t seq, uint16_t want_type, void *out, size_t outlen)
{
	char *buf = malloc(KAUDIT_REPLY_MAX);
	int rc = -ETIMEDOUT;

	if (buf == NULL)
		return -ENOMEM;
	for (int tries = 0; tries < 64; tries++) {
		ssize_t n = recv_kernel(fd, buf);
		struct nlmsghdr *nh;
		size_t left;

		if (n < 0) {
			rc = (int)n;
			break;
		}
		left = (size_t)n;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);
				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
					rc = -EPROTO;
					goto out;
				}
				/* An ack (error 0) to a GET comes before the reply only
				 * with NLM_F_ACK, which we do not set for GET. */
				rc = e->error;
				if (rc == 0 && want_type != NLMSG_ERROR)
					continue;
				goto out;
			}
			if (nh->nlmsg_type == want_type) {
				size_t plen = nh->nlmsg_len - NLMSG_HDRLEN;
				memset(out, 0, outlen);
				memcpy(out, NLMSG_DATA(nh), plen < outlen ? plen : outlen);
				rc = 0;
				goto out;
			}
		}
	}
out:
	free(buf);
	return rc;
}

int
kaudit_get_status(int fd, struct audit_status *st)
{
	uint32_t seq;
	int rc = send_req(fd, AUDIT_GET, 0, NULL, 0, &seq);

	if (rc < 0)
		return rc;
	return wait_reply(fd, seq, AUDIT_GET, st, sizeof(*st));
}

int
kaudit_get_features(int fd, struct audit_features *f)
{
	uint32_t seq;
	int rc = send_req(fd, AUDIT_GET_FEATURE, 0, NULL, 0, &seq);

	if (rc < 0)
		return rc;
	return wait_reply(fd, seq, AUDIT_GET_FEATURE, f, sizeof(*f));
}

int
kaudit_signal_info(int fd, uint32_t *auid, pid_t *pid, char *ctx, size_t ctxlen)
{
	/* struct audit_sig_info ends in the context, whose length the kernel
	 * does not bound for us: keep room for one and cut what is longer. */
	union {
		struct audit_sig_info	si;
		char			b[sizeof(struct audit_sig_info) + 256];
	} u;
	uint32_t seq;
	size_t i, o = 0;
	int rc = send_req(fd, AUDIT_SIGNAL_INFO, 0, NULL, 0, &seq);

	if (rc < 0 || (rc = wait_reply(fd, seq, AUDIT_SIGNAL_INFO, &u, sizeof(u) - 1)) < 0)
		return rc;
	u.b[sizeof(u) - 1] = '\0';
	*auid = u.si.uid;
	*pid = u.si.pid;
	for (i = sizeof(u.si); u.b[i] != '\0' && o + 1 < ctxlen; i++, o++) {
		char ch = u.b[i];

		/* The context goes into a record field: printable, no blank. */
		if (ch <= ' ' || ch >= 0x7f)
			ch = '?';
		ctx[o] = ch;
	}
	if (ctxlen > 0)
		ctx[o] = '\0';
	return 0;
}

int
kaudit_request(int fd, uint16_t type, const void *data, size_t len)
{
	uint32_t seq;
	int rc = send_req(fd, type, NLM_F_ACK, data, len, &seq);

	if (rc < 0)
		return rc;
	return wait_reply(fd, seq, NLMSG_ERROR, NULL, 0);
}

int
kaudit_set_status(int fd, const struct audit_status *st)
{
	return kaudit_request(fd, AUDIT_SET, st, sizeof(*st));
}

int
kaudit_exclude_pid(int fd, pid_t pid, bool add)
{
	struct audit_rule_data *rule = audit_rule_create_data();
	char pair[32];
	int rc;

	if (rule == NULL)
		return -ENOMEM;
	snprintf(pair, sizeof(pair), "pid=%ld", (long)pid);
	if (audit_rule_syscallbyname_data(rule, "all") < 0 ||
	    audit_rule_fieldpair_data(&rule, pair, AUDIT_FILTER_EXIT) < 0) {
		rc = -EINVAL;
		goto out;
	}
	/*
	 * PREPEND only on add: the kernel clears the flag on the rule it
	 * stores and compares flags exactly when asked to delete one.
	 */
	rule->flags = AUDIT_FILTER_EXIT | (add ? AUDIT_FILTER_PREPEND : 0);
	rule->action = AUDIT_NEVER;
	rc = kaudit_request(fd, add ? AUDIT_ADD_RULE : AUDIT_DEL_RULE, rule,
	    sizeof(*rule) + rule->buflen);
out:
	audit_rule_free_data(rule);
	return rc;
}

/* Is r, as the kernel lists it, "never,exit -F pid=PID" and nothing else? */
static bool
kaudit_is_exclude(const struct nlmsghdr *nh, pid_t pid)
{
	const struct audit_rule_data *r = NLMSG_DATA(nh);

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*r)))
		return false;
	return r->flags == AUDIT_FILTER_EXIT && r->action == AUDIT_NEVER &&
	    r->field_count == 1 && r->fields[0] == AUDIT_PID &&
	    r->fieldflags[0] == AUDIT_EQUAL && r->values[0] == (uint32_t)pid;
}

int
kaudit_has_exclude_pid(int fd, pid_t pid)
{
	char *buf = malloc(KAUDIT_REPLY_MAX);
	uint32_t seq;
	int rc, found = 0;

	if (buf == NULL)
		return -ENOMEM;
	if ((rc = send_req(fd, AUDIT_LIST_RULES, 0, NULL, 0, &seq)) < 0)
		goto out;
	/* A dump: one message per rule, then NLMSG_DONE. Bounded by the
	 * socket's timeout on each receive and by this count. */
	for (int msgs = 0; msgs < 1000000; msgs++) {
		ssize_t n = recv_kernel(fd, buf);
		struct nlmsghdr *nh;
		size_t left;

		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		left = (size_t)n;
		for (nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				rc = found;
				goto out;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);
				rc = nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ? -EPROTO : e->error;
				if (rc < 0)
					goto out;
				continue;
			}
			if (nh->nlmsg_type == AUDIT_LIST_RULES && kaudit_is_exclude(nh, pid))
				found = 1;
		}
	}
	rc = -EPROTO;
out:
	free(buf);
	return rc;
}

bool
kaudit_pid_alive(pid_t pid, char *comm, size_t commlen)
{
	char path[64];
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, commlen - 1);
	close(fd);
	if (n < 0)
		n = 0;
	comm[n] = '\0';
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	return true;
}

bool
kaudit_is_audit_socket(int fd)
{
	int v;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != AF_NETLINK)
		return false;
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) < 0 || v != NETLINK_AUDIT)
		return false;
	return true;
}

/* Kernel socket inodes of NETLINK_AUDIT sockets, and whether one of them
 * has portid pid. -errno when /proc/net/netlink cannot be read. */
static int
audit_sockets(pid_t pid, unsigned long *ino, size_t max, size_t *n, bool *by_portid)
{
	char line[256];
	FILE *fp = fopen("/proc/net/netlink", "re");

	*n = 0;
	*by_portid = false;
	if (fp == NULL)
		return -errno;
	while (fgets(line, sizeof(line), fp) != NULL) {
		unsigned long sk, inode;
		unsigned proto, groups, rmem, wmem, dump, locks, drops;
		uint32_t portid;

		/* sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode */
		if (sscanf(line, "%lx %u %" SCNu32 " %x %u %u %u %u %u %lu", &sk, &proto,
		    &portid, &groups, &rmem, &wmem, &dump, &locks, &drops, &inode) != 10)
			continue;	/* the header line */
		if (proto != NETLINK_AUDIT)
			continue;
		if (pid > 0 && portid == (uint32_t)pid)
			*by_portid = true;
		if (*n < max)
			ino[(*n)++] = inode;
	}
	fclose(fp);
	return 0;
}

bool
kaudit_pid_has_audit_socket(pid_t pid)
{
	unsigned long ino[256];
	char dir[64], path[PATH_MAX], link[64];
	size_t n;
	bool by_portid, found = false;
	struct dirent *de;
	DIR *dp;

	if (pid <= 0)
		return false;
	/* Cannot tell: say yes, the caller stays careful. */
	if (audit_sockets(pid, ino, sizeof(ino) / sizeof(ino[0]), &n, &by_portid) < 0)
		return true;
	if (by_portid)
		return true;
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((dp = opendir(dir)) == NULL)
		/* Gone, or not ours to look at (another user without
		 * CAP_SYS_PTRACE): only a vanished process is a no. */
		return errno != ENOENT;
	/* readdir on a DIR only this call uses is safe (readdir_r is deprecated). */
	while (!found && (de = readdir(dp)) != NULL) { /* cppcheck-suppress readdirCalled */
		unsigned long fino;
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &fino) != 1)
			continue;
		for (size_t i = 0; i < n && !found; i++)
			found = ino[i] == fino;
	}
	closedir(dp);
	return found;
}
