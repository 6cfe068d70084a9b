/*
 * fake_kernel.c - stand in for the kernel's kauditd in the integration
 * tests: connect to rauditd's test-input socket (rauditd --test-input PATH)
 * and send framed datagrams (a struct sockaddr_nl naming the sender, then
 * the netlink message) as the kernel would, one record per datagram with
 * the kernel's nlmsg_len quirk (payload length only). Each event is a
 * SYSCALL, a PROCTITLE and an EOE record sharing one serial; spoofed,
 * malformed, truncated (oversize), control and AUDIT_REPLACE messages, and
 * LOGIN records (type 1006, below 1100 but a record) in front of some
 * events, are spread evenly through the stream on request. Sends wait (bounded) while
 * the receiver's queue is full. Prints one summary line of what it sent.
 */
#include "build_config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/netlink.h>

/* A send that makes no progress for this long is an error, ms. */
#define FK_STALL_MS		10000
/* How long to wait for room between retries of a full queue, ms. */
#define FK_RETRY_MS		10
/* Payload of a truncated record: more than rauditd's 16 KiB buffer. */
#define FK_TRUNC_LEN		20000
/* nl_pid of a spoofed sender: anything but the kernel's 0. */
#define FK_SPOOF_PID		4242
/* Spoofed records carry serials far from the real ones. */
#define FK_SPOOF_SERIAL		900000000u
/* Wall-clock second of the first event in the stamps. */
#define FK_EPOCH		1700000000ull
/* Longest body we format (truncated ones are built separately), bytes. */
#define FK_BODY_MAX		1024

enum kind { K_SPOOF, K_MALFORMED, K_TRUNCATED, K_CONTROL, K_REPLACE, K_LOGIN,
	K_NKINDS };

static const char *const kind_names[K_NKINDS] = {
	"spoofed", "malformed", "truncated", "control", "replace", "login",
};

struct fk {
	int		 fd;
	uint64_t	 datagrams;
	uint64_t	 records;	/* well-formed kernel records (SYSCALL, ...) */
	uint64_t	 bytes;
	uint64_t	 retries;	/* sends that found the queue full */
	uint64_t	 want[K_NKINDS];
	uint64_t	 sent[K_NKINDS];
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: fake_kernel -s PATH -n COUNT [-S first_serial] [-r events_per_s]\n"
	    "           [--spoof N] [--malformed N] [--truncated N] [--control N] [--replace N]\n"
	    "           [--login N]\n");
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * Send one datagram made of iov, waiting while the receiver's queue is full.
 * Returns 0 or -errno (the stall bound gives -ETIMEDOUT).
 */
static int
send_iov(struct fk *f, struct iovec *iov, int iovcnt)
{
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
	uint64_t deadline = mono_ms() + FK_STALL_MS;

	for (;;) {
		ssize_t n = sendmsg(f->fd, &mh, MSG_NOSIGNAL);
		struct pollfd pfd = { .fd = f->fd, .events = POLLOUT };
		int e = errno;

		if (n >= 0) {
			f->datagrams++;
			f->bytes += (uint64_t)n;
			return 0;
		}
		if (e == EINTR)
			continue;
		if (e != EAGAIN && e != EWOULDBLOCK && e != ENOBUFS)
			return -e;
		if (mono_ms() >= deadline)
			return -ETIMEDOUT;
		f->retries++;
		/* A connected datagram socket polls writable once the peer's
		 * queue has room; ENOBUFS has no such edge, so it just sleeps. */
		if (e == ENOBUFS || poll(&pfd, 1, FK_RETRY_MS) < 0) {
			struct timespec ts = { 0, FK_RETRY_MS * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
}

/* A netlink message from sender pid with the given header fields. */
static int
send_nl(struct fk *f, uint32_t pid, uint16_t type, uint32_t nlmsg_len,
    const void *payload, size_t plen)
{
	struct sockaddr_nl from = { .nl_family = AF_NETLINK, .nl_pid = pid };
	struct nlmsghdr nh = { .nlmsg_len = nlmsg_len, .nlmsg_type = type };
	struct iovec iov[3] = {
		{ &from, sizeof(from) }, { &nh, sizeof(nh) },
		{ (void *)(uintptr_t)payload, plen },
	};

	return send_iov(f, iov, 3);
}

/* An audit record as kauditd sends it: nlmsg_len is the payload's length. */
static int
send_record(struct fk *f, uint32_t pid, uint16_t type, const char *body, size_t len)
{
	return send_nl(f, pid, type, (uint32_t)len, body, len);
}

static int
stamp(char *out, size_t cap, uint32_t serial)
{
	return snprintf(out, cap, "audit(%llu.%03u:%" PRIu32 "): ",
	    FK_EPOCH + serial / 1000u, serial % 1000u, serial);
}

/* The three records of one event, as a shell's execve would produce. */
static int
send_event(struct fk *f, uint32_t serial)
{
	char b[FK_BODY_MAX];
	int n, m, rc;

	n = stamp(b, sizeof(b), serial);
	m = snprintf(b + n, sizeof(b) - (size_t)n,
	    "arch=c000003e syscall=59 success=yes exit=0 a0=55d4c1e0b2a0 "
	    "a1=55d4c1e0b2c8 a2=55d4c1e0b2e0 a3=8 items=2 ppid=%u pid=%u "
	    "auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 "
	    "tty=pts0 ses=3 comm=\"true\" exe=\"/usr/bin/true\" "
	    "subj=unconfined key=\"fake\"",
	    1000u + serial % 7u, 2000u + serial % 30000u);
	if ((rc = send_record(f, 0, AUDIT_SYSCALL, b, (size_t)n + (size_t)m)) < 0)
		return rc;
	/* "/usr/bin/true --fake" in hex, as the kernel logs argv with NULs. */
	m = snprintf(b + n, sizeof(b) - (size_t)n,
	    "proctitle=2F7573722F62696E2F74727565002D2D66616B65");
	if ((rc = send_record(f, 0, AUDIT_PROCTITLE, b, (size_t)n + (size_t)m)) < 0)
		return rc;
	/* The kernel's EOE body is the stamp alone. */
	if ((rc = send_record(f, 0, AUDIT_EOE, b, (size_t)n)) < 0)
		return rc;
	f->records += 3;
	return 0;
}

/* One message of the given kind; serial is the event it is sent beside. */
static int
send_special(struct fk *f, enum kind k, uint32_t serial)
{
	uint64_t i = f->sent[k];
	char b[FK_BODY_MAX];
	int n, rc = 0;

	switch (k) {
	case K_SPOOF:
		/* Well-formed, but not from the kernel. */
		n = stamp(b, sizeof(b), FK_SPOOF_SERIAL + (uint32_t)i);
		n += snprintf(b + n, sizeof(b) - (size_t)n,
		    "arch=c000003e syscall=59 success=yes exit=0 key=\"SPOOFED\"");
		rc = send_record(f, FK_SPOOF_PID + (uint32_t)(i % 3), AUDIT_SYSCALL,
		    b, (size_t)n);
		break;
	case K_MALFORMED:
		n = stamp(b, sizeof(b), serial);
		n += snprintf(b + n, sizeof(b) - (size_t)n, "key=\"MALFORMED\"");
		if (i % 3 == 0) {
			/* nlmsg_len beyond the end of the datagram. */
			rc = send_nl(f, 0, AUDIT_SYSCALL, (uint32_t)n + 100, b, (size_t)n);
		} else if (i % 3 == 1) {
			/* An address and half a netlink header. */
			struct sockaddr_nl from = { .nl_family = AF_NETLINK };
			unsigned char d[sizeof(from) + NLMSG_HDRLEN / 2];
			struct iovec iov = { d, sizeof(d) };
			memset(d, 0, sizeof(d));
			memcpy(d, &from, sizeof(from));
			rc = send_iov(f, &iov, 1);
		} else {
			/* Shorter than the framing address itself. */
			unsigned char d[5] = { 0 };
			struct iovec iov = { d, sizeof(d) };
			rc = send_iov(f, &iov, 1);
		}
		break;
	case K_TRUNCATED: {
		/* A record of this event too long for rauditd's buffer. */
		char *p = malloc(FK_TRUNC_LEN);
		if (p == NULL)
			return -ENOMEM;
		n = stamp(p, FK_TRUNC_LEN, serial);
		n += snprintf(p + n, (size_t)(FK_TRUNC_LEN - n), "argc=1 a0=");
		memset(p + n, '4', (size_t)(FK_TRUNC_LEN - n));
		rc = send_record(f, 0, AUDIT_EXECVE, p, FK_TRUNC_LEN);
		free(p);
		break;
	}
	case K_CONTROL:
		if (i % 2 == 0) {
			/* An ack, as for rauditd's AUDIT_SET. */
			struct nlmsgerr e;
			memset(&e, 0, sizeof(e));
			e.msg.nlmsg_type = AUDIT_SET;
			e.msg.nlmsg_len = NLMSG_LENGTH(sizeof(struct audit_status));
			rc = send_nl(f, 0, NLMSG_ERROR, NLMSG_LENGTH(sizeof(e)), &e,
			    sizeof(e));
		} else {
			/* An AUDIT_GET reply. */
			struct audit_status st;
			memset(&st, 0, sizeof(st));
			st.enabled = 1;
			st.backlog_limit = 8192;
			rc = send_nl(f, 0, AUDIT_GET, NLMSG_LENGTH(sizeof(st)), &st,
			    sizeof(st));
		}
		break;
	case K_REPLACE: {
		/* The kernel asking whether we are alive; its payload is a pid. */
		uint32_t pid = 31337;
		rc = send_record(f, 0, AUDIT_REPLACE, (const char *)&pid, sizeof(pid));
		break;
	}
	case K_LOGIN:
		/* A write to /proc/self/loginuid: part of that syscall's event. */
		n = stamp(b, sizeof(b), serial);
		n += snprintf(b + n, sizeof(b) - (size_t)n,
		    "pid=%u uid=0 subj=unconfined old-auid=4294967295 auid=1000 "
		    "tty=(none) old-ses=4294967295 ses=%u res=1",
		    2000u + serial % 30000u, (unsigned)(i + 1));
		rc = send_record(f, 0, AUDIT_LOGIN, b, (size_t)n);
		break;
	case K_NKINDS:
		break;
	}
	if (rc == 0)
		f->sent[k]++;
	return rc;
}

/* Send the specials due by event index i of count: spread evenly. */
static int
send_due(struct fk *f, uint64_t i, uint64_t count, uint32_t serial)
{
	for (int k = 0; k < K_NKINDS; k++) {
		while (f->sent[k] < f->want[k] &&
		    (f->sent[k] + 1) * count / (f->want[k] + 1) <= i) {
			int rc = send_special(f, (enum kind)k, serial);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static void
pace(const struct timespec *t0, uint64_t i, uint64_t rate)
{
	struct timespec t = *t0;
	uint64_t ns;

	if (rate == 0)
		return;
	ns = i * 1000000000ull / rate;
	t.tv_sec += (time_t)(ns / 1000000000ull);
	t.tv_nsec += (long)(ns % 1000000000ull);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "count",	required_argument,	NULL, 'n' },
		{ "first-serial", required_argument,	NULL, 'S' },
		{ "rate",	required_argument,	NULL, 'r' },
		{ "spoof",	required_argument,	NULL, 'P' + 256 },
		{ "malformed",	required_argument,	NULL, 'M' + 256 },
		{ "truncated",	required_argument,	NULL, 'T' + 256 },
		{ "control",	required_argument,	NULL, 'C' + 256 },
		{ "replace",	required_argument,	NULL, 'R' + 256 },
		{ "login",	required_argument,	NULL, 'L' + 256 },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct fk f;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec t0, t1;
	const char *path = NULL;
	uint64_t count = 0, first = 1, rate = 0, v;
	bool have_count = false;
	double el;
	int ch, rc = 0;

	memset(&f, 0, sizeof(f));
	f.fd = -1;
	while ((ch = getopt_long(argc, argv, "s:n:S:r:h", longopts, NULL)) != -1) {
		int k = -1;

		switch (ch) {
		case 's': path = optarg; continue;
		case 'h': usage(stdout); return 0;
		case 'n':
			if (!parse_u64(optarg, UINT32_MAX, &count))
				goto bad;
			have_count = true;
			continue;
		case 'S':
			if (!parse_u64(optarg, UINT32_MAX, &first))
				goto bad;
			continue;
		case 'r':
			if (!parse_u64(optarg, 100000000, &rate))
				goto bad;
			continue;
		case 'P' + 256: k = K_SPOOF; break;
		case 'M' + 256: k = K_MALFORMED; break;
		case 'T' + 256: k = K_TRUNCATED; break;
		case 'C' + 256: k = K_CONTROL; break;
		case 'R' + 256: k = K_REPLACE; break;
		case 'L' + 256: k = K_LOGIN; break;
		default:
			usage(stderr);
			return 2;
		}
		if (!parse_u64(optarg, 100000000, &v))
			goto bad;
		f.want[k] = v;
		continue;
bad:
		fprintf(stderr, "fake_kernel: bad number \"%s\"\n", optarg);
		return 2;
	}
	if (path == NULL || !have_count || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (first + count > (uint64_t)UINT32_MAX + 1) {
		fprintf(stderr, "fake_kernel: serials would pass %u\n", UINT32_MAX);
		return 2;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fake_kernel: %s: path too long\n", path);
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	f.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f.fd < 0 || connect(f.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "fake_kernel: %s: %s\n", path, strerror(errno));
		return 1;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < count && rc == 0; i++) {
		uint32_t serial = (uint32_t)(first + i);

		pace(&t0, i, rate);
		rc = send_due(&f, i, count, serial);
		if (rc == 0)
			rc = send_event(&f, serial);
	}
	/* Whatever is still due (also with -n 0). */
	if (rc == 0)
		rc = send_due(&f, count, count, (uint32_t)(first + (count ? count - 1 : 0)));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(f.fd);
	el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("sent events %" PRIu64 " records %" PRIu64, f.records / 3, f.records);
	for (int k = 0; k < K_NKINDS; k++)
		printf(" %s %" PRIu64, kind_names[k], f.sent[k]);
	printf(" datagrams %" PRIu64 " bytes %" PRIu64 " first_serial %" PRIu64
	    " last_serial %" PRIu64 " retries %" PRIu64 " elapsed_s %.3f\n",
	    f.datagrams, f.bytes, first, count ? first + count - 1 : first,
	    f.retries, el);
	if (rc < 0) {
		fprintf(stderr, "fake_kernel: send to %s: %s\n", path, strerror(-rc));
		return 1;
	}
	return 0;
}
