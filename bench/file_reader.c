/*
 * file_reader.c - the minimal single-threaded reader that writes each
 * record to a file: register as the audit daemon, recv one record, format
 * it as an audit.log line ("type=NAME msg=TEXT\n", auditd's RAW format) and
 * write(2) it, one write per record, no fsync, no buffering, no threads.
 * It is the CPU yardstick of issue 3: what a record costs at the least.
 *
 * Usage: file_reader -o FILE [-b RCVBUF_BYTES]	run until SIGTERM/SIGINT
 * Prints "registered pid N", and at stop "records N syscall_records S
 * written W unwritten_at_stop U overruns O write_errors E unregister ok|ERROR"
 * (records counts what was written; U is what was still queued at SIGTERM).
 * Build: gcc -std=gnu11 -O2 -o file_reader bench/file_reader.c -laudit
 */
#include <fcntl.h>
#include <libaudit.h>

#include "reader_common.h"

struct out {
	int			fd;
	unsigned long long	records;
	unsigned long long	syscall;
	unsigned long long	written;
	unsigned long long	write_errors;
	unsigned long long	skipped;
	char			line[READER_BUFSZ + 64];
};

static void
put(const struct nlmsghdr *h, size_t n, void *arg)
{
	struct out *o = arg;
	const char *body = NLMSG_DATA(h), *name;
	char tbuf[32];
	size_t len, nl, off;
	ssize_t w;

	if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE ||
	    h->nlmsg_type == NLMSG_NOOP)
		return;
	o->records++;
	if (h->nlmsg_type == AUDIT_SYSCALL)
		o->syscall++;
	/* Not nlmsg_len: the kernel puts the payload length alone there. */
	len = n - NLMSG_HDRLEN;
	if (len > READER_BUFSZ)
		len = READER_BUFSZ;
	while (len > 0 && body[len - 1] == '\0')
		len--;
	if ((name = audit_msg_type_to_name(h->nlmsg_type)) == NULL) {
		snprintf(tbuf, sizeof(tbuf), "UNKNOWN[%d]", h->nlmsg_type);
		name = tbuf;
	}
	nl = strlen(name);
	memcpy(o->line, "type=", 5);
	memcpy(o->line + 5, name, nl);
	memcpy(o->line + 5 + nl, " msg=", 5);
	memcpy(o->line + 10 + nl, body, len);
	o->line[10 + nl + len] = '\n';
	len += 11 + nl;
	for (off = 0; off < len; off += (size_t)w) {
		w = write(o->fd, o->line + off, len - off);
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			o->write_errors++;
			return;
		}
	}
	o->written++;
}

static void
skip(const struct nlmsghdr *h, size_t n, void *arg)
{
	struct out *o = arg;

	(void)n;
	if (h->nlmsg_type != NLMSG_ERROR && h->nlmsg_type != NLMSG_DONE &&
	    h->nlmsg_type != NLMSG_NOOP)
		o->skipped++;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[READER_BUFSZ];
	static struct out o;
	unsigned long long overruns = 0;
	const char *path = NULL;
	long rcvbuf = READER_RCVBUF;
	int fd, ch, err = -EIO;
	ssize_t n;

	while ((ch = getopt(argc, argv, "b:o:")) != -1) {
		switch (ch) {
		case 'b': rcvbuf = strtol(optarg, NULL, 10); break;
		case 'o': path = optarg; break;
		default:
			path = NULL;
			optind = argc;
			break;
		}
	}
	if (path == NULL) {
		fprintf(stderr, "usage: file_reader -o file [-b rcvbuf_bytes]\n");
		return 2;
	}
	o.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (o.fd < 0) {
		perror(path);
		return 1;
	}
	reader_signals();
	if ((fd = reader_open(rcvbuf)) < 0)
		return 1;
	if (reader_send_pid(fd, (uint32_t)getpid(), 1) < 0 ||
	    (err = reader_wait_ack(fd, 1, buf, put, &o)) != 0) {
		fprintf(stderr, "file_reader: registering: %s\n", strerror(-err));
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
			put((struct nlmsghdr *)buf, (size_t)n, &o);
	}
	/*
	 * Let go of the kernel. Records still queued in the socket arrive
	 * before the ack; they are read and counted but not written, so a
	 * stop is prompt even when a slow disk left a full socket behind.
	 */
	err = reader_send_pid(fd, 0, 2) < 0 ? -EIO : reader_wait_ack(fd, 2, buf, skip, &o);
	printf("records %llu syscall_records %llu written %llu unwritten_at_stop %llu "
	    "overruns %llu write_errors %llu unregister %s\n",
	    o.records, o.syscall, o.written, o.skipped, overruns, o.write_errors,
	    err == 0 ? "ok" : strerror(-err));
	close(fd);
	close(o.fd);
	return err == 0 ? 0 : 1;
}
