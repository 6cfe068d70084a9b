/*
 * null_reader.c - the physical limit of what kauditd delivers here: register
 * as the audit daemon, recv one record at a time and throw it away, count.
 *
 * Usage: null_reader [-b RCVBUF_BYTES] [-k KEY]	run until SIGTERM/SIGINT
 *        null_reader -U				clear a stale registration, exit
 * Prints "registered pid N" once the kernel has acked the registration and,
 * at stop (after unregistering; records queued before the ack are counted),
 * "records N syscall_records S keyed_syscall_records K overruns O
 * unregister ok|ERROR"; K counts SYSCALL records carrying key="KEY" (-k),
 * i.e. the benchmark load's events, without the bench's own auditctl calls.
 * Build: gcc -std=gnu11 -O2 -o null_reader bench/null_reader.c
 */
#include "reader_common.h"

struct counts {
	unsigned long long	records;
	unsigned long long	syscall;
	unsigned long long	keyed;		/* SYSCALL records with key="KEY" */
	char			needle[300];
	size_t			needle_len;
};

static void
count(const struct nlmsghdr *h, size_t n, void *arg)
{
	struct counts *c = arg;

	if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE ||
	    h->nlmsg_type == NLMSG_NOOP)
		return;
	c->records++;
	if (h->nlmsg_type != AUDIT_SYSCALL)
		return;
	c->syscall++;
	if (c->needle_len && n > NLMSG_HDRLEN &&
	    memmem(NLMSG_DATA(h), n - NLMSG_HDRLEN, c->needle, c->needle_len) != NULL)
		c->keyed++;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[READER_BUFSZ];
	static struct counts c;
	unsigned long long overruns = 0;
	long rcvbuf = READER_RCVBUF;
	int fd, ch, err = -EIO;
	ssize_t n;

	while ((ch = getopt(argc, argv, "b:k:U")) != -1) {
		switch (ch) {
		case 'b': rcvbuf = strtol(optarg, NULL, 10); break;
		case 'k':
			c.needle_len = (size_t)snprintf(c.needle, sizeof(c.needle),
			    "key=\"%s\"", optarg);
			if (c.needle_len >= sizeof(c.needle))
				c.needle_len = 0;
			break;
		case 'U': return reader_clear_stale();
		default:
			fprintf(stderr, "usage: null_reader [-b rcvbuf_bytes] [-k key] | -U\n");
			return 2;
		}
	}
	reader_signals();
	if ((fd = reader_open(rcvbuf)) < 0)
		return 1;
	if (reader_send_pid(fd, (uint32_t)getpid(), 1) < 0 ||
	    (err = reader_wait_ack(fd, 1, buf, count, &c)) != 0) {
		fprintf(stderr, "null_reader: registering: %s\n", strerror(-err));
		return 1;
	}
	printf("registered pid %ld\n", (long)getpid());
	fflush(stdout);

	while (!reader_stop) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				overruns++;
				continue;
			}
			perror("recv");
			break;
		}
		if (n >= (ssize_t)NLMSG_HDRLEN)
			count((struct nlmsghdr *)buf, (size_t)n, &c);
	}
	/* Let go of the kernel; what is still queued arrives before the ack. */
	err = reader_send_pid(fd, 0, 2) < 0 ? -EIO : reader_wait_ack(fd, 2, buf, count, &c);
	printf("records %llu syscall_records %llu keyed_syscall_records %llu overruns %llu unregister %s\n",
	    c.records, c.syscall, c.keyed, overruns, err == 0 ? "ok" : strerror(-err));
	close(fd);
	return err == 0 ? 0 : 1;
}
