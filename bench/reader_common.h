/*
 * reader_common.h - what the two minimal benchmark readers share: open a
 * NETLINK_AUDIT socket with a large receive buffer, register this process
 * as the audit daemon (AUDIT_SET pid), unregister, and catch SIGTERM and
 * SIGINT without SA_RESTART so a blocking recv returns EINTR.
 *
 * Header-only on purpose: each reader is one file built by hand with
 *	gcc -std=gnu11 -O2 -o null_reader bench/null_reader.c
 * No libev, no threads, no ring: these are the yardsticks rauditd is
 * measured against, so they do the least a reader can do.
 */
#ifndef BENCH_READER_COMMON_H
#define BENCH_READER_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/netlink.h>

/* Default receive buffer, as rauditd's rcvbuf default: a limit, not memory. */
#define READER_RCVBUF		(1024L * 1024 * 1024)
/* One audit record per datagram; the kernel caps the text at 8970 bytes. */
#define READER_BUFSZ		(16 * 1024)
/* How long start and stop wait for the kernel's ack of AUDIT_SET pid; at
 * stop the records still queued in the socket are read (not kept) first. */
#define READER_ACK_WAIT_MS	5000

static volatile sig_atomic_t reader_stop;

static void
reader_on_signal(int sig)
{
	(void)sig;
	reader_stop = 1;
}

static void
reader_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reader_on_signal;	/* no SA_RESTART: recv gets EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int
reader_open(long rcvbuf)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, sz = rcvbuf > 0x3fffffff ? 0x3fffffff : (int)rcvbuf;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0) {
		perror("socket(NETLINK_AUDIT)");
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("bind");
		close(fd);
		return -1;
	}
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		perror("SO_RCVBUFFORCE (continuing with the default buffer)");
	return fd;
}

/* AUDIT_SET with only the pid field: pid 0 unregisters. */
static int
reader_send_pid(int fd, uint32_t pid, uint32_t seq)
{
	struct {
		struct nlmsghdr		h;
		struct audit_status	s;
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.s));
	req.h.nlmsg_type = AUDIT_SET;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.h.nlmsg_seq = seq;
	req.s.mask = AUDIT_STATUS_PID;
	req.s.pid = pid;
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) < 0) {
		perror("sendto(AUDIT_SET)");
		return -1;
	}
	return 0;
}

/*
 * If msg is the ack of request seq: 1 and *err set (0 or a negative errno).
 * Records may arrive before the ack once the kernel knows our pid.
 */
static int
reader_is_ack(const struct nlmsghdr *h, uint32_t seq, int *err)
{
	const struct nlmsgerr *e;

	if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != seq)
		return 0;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
		*err = -EPROTO;
		return 1;
	}
	e = NLMSG_DATA(h);
	*err = e->error;
	return 1;
}

/*
 * Wait (bounded) for the ack of seq, handing other messages to cb with the
 * datagram's length: the kernel sets an audit record's nlmsg_len to the
 * payload length alone, so the recv length is the one to trust.
 */
static int
reader_wait_ack(int fd, uint32_t seq, unsigned char *buf,
    void (*cb)(const struct nlmsghdr *, size_t, void *), void *arg)
{
	for (int waited = 0; waited < READER_ACK_WAIT_MS; ) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int err;

		if (poll(&p, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		n = recv(fd, buf, READER_BUFSZ, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)
				continue;
			return -errno;
		}
		if (n < (ssize_t)NLMSG_HDRLEN)
			continue;
		if (reader_is_ack((struct nlmsghdr *)buf, seq, &err))
			return err;
		cb((struct nlmsghdr *)buf, (size_t)n, arg);
	}
	return -ETIMEDOUT;
}

/*
 * Clear a stale registration: AUDIT_SET pid 0 makes the kernel test the
 * registered daemon's socket first and forget it if the daemon is gone.
 * A live daemon (someone else's) answers EACCES and stays registered.
 */
static inline int
reader_clear_stale(void)
{
	unsigned char buf[READER_BUFSZ];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	int fd = reader_open(0), err = -ETIMEDOUT;

	if (fd < 0)
		return 1;
	if (reader_send_pid(fd, 0, 1) == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		while (poll(&p, 1, READER_ACK_WAIT_MS) > 0 &&
		    recv(fd, buf, sizeof(buf), 0) >= (ssize_t)NLMSG_HDRLEN)
			if (reader_is_ack(h, 1, &err))
				break;
	}
	close(fd);
	printf("clear: %s\n", err == 0 ? "ok" : strerror(-err));
	return err == 0 || err == -EACCES ? 0 : 1;
}

#endif
