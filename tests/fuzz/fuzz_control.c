/*
 * fuzz_control.c - libFuzzer target for both sides of the control protocol
 * (control_proto.h).
 *
 * The first input byte picks the side.
 *
 * Even: the daemon side (control.c). A control server listens on an ev
 * loop with a test handler; one client connects and sends the rest of the
 * input in pieces of data[1] bytes (0: all at once), the loop running
 * between pieces, then shuts its sending half. The server must finish the
 * conversation (answer and close, or just close) without a timer firing,
 * and what it sends must be exactly what the protocol says: nothing for an
 * incomplete header, otherwise one reply (ERROR for a bad version, length
 * or reserved field; the handler's reply for a good request) followed by
 * END, every header well formed. data[1] bit 7 gives the client a tiny
 * receive buffer so the server's non-blocking writes come back short.
 *
 * Odd: the client side (rauditctl.c, #included here because its reply
 * reader and status parser are static). data[1] picks the request; a
 * thread plays the daemon: it accepts, reads the request and answers with
 * the rest of the input as the raw reply stream. rauditctl's request and
 * reply loop, its "name value" status parser and its status printers
 * (auditctl -s lines, counters, JSON) run on it, output to /dev/null.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "control.h"
#include "control_proto.h"

int rauditctl_main(int argc, char **argv);
#define main rauditctl_main
/* The include-the-.c trick (STYLE 10) for rauditctl's static parser. */
#include "rauditctl.c" /* NOLINT(bugprone-suspicious-include) */
#undef main

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* control.c's CONTROL_MAX_REQUEST: a longer request is malformed. */
#define CONTROL_MAX_REQUEST_FZ	256
/* The handler's long reply: longer than a tiny socket buffer. */
#define TEXT_LEN	(48 * 1024)

static struct ev_loop *loop;
static struct control *ctl;
static char srv_dir[64], cli_dir[64];
static struct sockaddr_un srv_sa;
static int cli_listen = -1;
static unsigned char *reply;		/* what the server sent one client */
#define REPLY_CAP	(4 * (sizeof(struct control_hdr) + CONTROL_MAX_PAYLOAD))

static void
handler(void *arg, uint16_t type, const struct control_peer *peer, struct control_reply *rep)
{
	(void)arg;
	switch (type) {
	case CONTROL_REQ_STATUS:
		rep->type = CONTROL_REP_STATUS;
		rep->len = (size_t)snprintf(rep->buf, CONTROL_MAX_PAYLOAD,
		    "rauditd_state running\nreceived 10\nwritten 9\ndropped 1\nin_ring 0\n");
		break;
	case CONTROL_REQ_STATE:
		rep->type = CONTROL_REP_TEXT;
		memset(rep->buf, 's', TEXT_LEN);
		rep->len = TEXT_LEN;
		break;
	default:
		if (!peer->privileged) {
			rep->type = CONTROL_REP_ERROR;
			rep->len = (size_t)snprintf(rep->buf, CONTROL_MAX_PAYLOAD, "not allowed");
		} else {
			rep->type = CONTROL_REP_OK;
			rep->len = 0;
		}
		break;
	}
}

static void
cleanup_at_exit(void)
{
	char p[128];

	if (ctl != NULL)
		control_close(ctl);
	snprintf(p, sizeof(p), "%s/%s", cli_dir, CONTROL_SOCKET_NAME);
	(void)unlink(p);
	(void)rmdir(srv_dir);
	(void)rmdir(cli_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *what;
	int devnull;

	(void)argc;
	(void)argv;
	snprintf(srv_dir, sizeof(srv_dir), "/tmp/fuzz_ctl_srv.XXXXXX");
	snprintf(cli_dir, sizeof(cli_dir), "/tmp/fuzz_ctl_cli.XXXXXX");
	if (mkdtemp(srv_dir) == NULL || mkdtemp(cli_dir) == NULL)
		abort();
	atexit(cleanup_at_exit);

	/* The daemon side. A non-root fuzzer is a status-only group member. */
	loop = ev_loop_new(EVFLAG_AUTO);
	ctl = control_open(loop, srv_dir, getgid(), true, handler, NULL, &what);
	if (loop == NULL || ctl == NULL) {
		fprintf(stderr, "control_open: %s: %s\n", what, strerror(errno));
		abort();
	}
	srv_sa.sun_family = AF_UNIX;
	snprintf(srv_sa.sun_path, sizeof(srv_sa.sun_path), "%s/%s", srv_dir,
	    CONTROL_SOCKET_NAME);
	reply = malloc(REPLY_CAP);

	/* The client side: rauditctl talks to our listener in cli_dir. */
	config_defaults(&cfg);
	snprintf(cfg.run_dir, sizeof(cfg.run_dir), "%s", cli_dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", cli_dir, CONTROL_SOCKET_NAME);
	cli_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (reply == NULL || cli_listen < 0 ||
	    bind(cli_listen, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(cli_listen, 4) < 0)
		abort();

	/* rauditctl prints; libFuzzer reports on stderr, which stays. */
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
		abort();
	close(devnull);
	return 0;
}

/* ---- the daemon side -------------------------------------------------- */

/* The lowest free descriptor number: a higher one later means a leak. */
static int
lowest_free_fd(void)
{
	int fd = 0;

	while (fcntl(fd, F_GETFD) != -1)
		fd++;
	return fd;
}

/* Read what the server sent; true once it closed the connection. */
static bool
collect(int fd, size_t *len)
{
	for (;;) {
		ssize_t n = recv(fd, reply + *len, REPLY_CAP - *len, MSG_DONTWAIT);

		if (n > 0) {
			*len += (size_t)n;
			if (*len == REPLY_CAP)
				abort();	/* far more than one reply and END */
			continue;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (errno == EAGAIN || errno == EINTR)
			return false;
		abort();
	}
}

/* The reply type the protocol requires for the request bytes req[0..len). */
static int
expected(const uint8_t *req, size_t len, bool privileged)
{
	struct control_hdr h;
	struct control_reply rep;
	struct control_peer peer;
	static char buf[CONTROL_MAX_PAYLOAD];

	if (len < sizeof(h))
		return -1;			/* no reply: never a whole header */
	memcpy(&h, req, sizeof(h));
	if (h.len > CONTROL_MAX_REQUEST_FZ || h.reserved != 0)
		return CONTROL_REP_ERROR;
	if (len < sizeof(h) + h.len)
		return -1;			/* incomplete request */
	if (h.version != CONTROL_VERSION)
		return CONTROL_REP_ERROR;
	rep.buf = buf;
	memset(&peer, 0, sizeof(peer));
	peer.privileged = privileged;
	handler(NULL, h.type, &peer, &rep);
	return rep.type;
}

static void
check_reply(size_t len, int want)
{
	size_t off = 0, nrep = 0;
	struct control_hdr h;
	int first = -1;

	while (off < len) {
		if (len - off < sizeof(h))
			abort();
		memcpy(&h, reply + off, sizeof(h));
		if (h.version != CONTROL_VERSION || h.reserved != 0 ||
		    h.len > CONTROL_MAX_PAYLOAD || len - off - sizeof(h) < h.len)
			abort();
		off += sizeof(h) + h.len;
		if (h.type == CONTROL_REP_END) {
			if (h.len != 0 || off != len || nrep != 1)
				abort();	/* END last, after exactly one reply */
			break;
		}
		if (nrep++ == 0)
			first = h.type;
	}
	if (want < 0 ? len != 0 : (len == 0 || first != want || h.type != CONTROL_REP_END)) {
		fprintf(stderr, "reply: %zu bytes, first type %d, want %d\n", len, first, want);
		abort();
	}
}

static void
fuzz_server(const uint8_t *data, size_t size)
{
	size_t chunk = data[0] & 0x7f, sent = 0, got = 0;
	bool closed = false, privileged = getuid() == 0;
	int fd, want, tries;

	data++;
	size--;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		abort();
	if (data[-1] & 0x80) {
		int small = 1024;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	if (connect(fd, (struct sockaddr *)&srv_sa, sizeof(srv_sa)) < 0)
		abort();
	ev_run(loop, EVRUN_NOWAIT);		/* accept */
	if (chunk == 0)
		chunk = size ? size : 1;
	for (tries = 0; sent < size && !closed && tries < 10000; tries++) {
		size_t n = size - sent < chunk ? size - sent : chunk;
		ssize_t w = send(fd, data + sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0)
			sent += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			break;			/* the server closed: EPIPE */
		ev_run(loop, EVRUN_NOWAIT);
		closed = collect(fd, &got);
	}
	(void)shutdown(fd, SHUT_WR);
	for (tries = 0; !closed && tries < 100000; tries++) {
		ev_run(loop, EVRUN_NOWAIT);
		closed = collect(fd, &got);
	}
	if (!closed) {
		fprintf(stderr, "the server did not end the conversation\n");
		abort();
	}
	close(fd);
	want = expected(data, sent, privileged);
	check_reply(got, want);
}

/* ---- the client side -------------------------------------------------- */

struct peer {
	const uint8_t	*data;
	size_t		 size;
};

/* The daemon as rauditctl sees it: take the request, send the input. */
static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	struct pollfd pfd = { .fd = cli_listen, .events = POLLIN };
	struct control_hdr h;
	size_t off = 0;
	int fd;

	if (poll(&pfd, 1, 5000) != 1)
		return NULL;		/* rauditctl never connected */
	fd = accept4(cli_listen, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (recv(fd, &h, sizeof(h), MSG_WAITALL) != (ssize_t)sizeof(h) ||
	    h.version != CONTROL_VERSION || h.len != 0)
		abort();		/* rauditctl sent a bad request */
	while (off < p->size) {
		ssize_t n = send(fd, p->data + off, p->size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;		/* rauditctl stopped reading */
		off += (size_t)n;
	}
	close(fd);
	return NULL;
}

static void
fuzz_client(const uint8_t *data, size_t size)
{
	static const uint16_t reqs[] = { CONTROL_REQ_STATUS, CONTROL_REQ_ROTATE,
	    CONTROL_REQ_RELOAD, CONTROL_REQ_STOP, CONTROL_REQ_STATE, CONTROL_REQ_RESUME };
	struct peer p = { data + 1, size - 1 };
	uint16_t type = reqs[data[0] % (sizeof(reqs) / sizeof(reqs[0]))];
	FILE *saved = stderr, *null = fopen("/dev/null", "w");
	pthread_t t;

	if (null == NULL || pthread_create(&t, NULL, peer_main, &p) != 0)
		abort();
	stderr = null;
	if (type == CONTROL_REQ_STATUS) {
		struct status st;
		struct kstatus ks;

		if (fetch_status(&st) == 0) {
			kernel_from_status(&st, &ks);
			print_kernel(&ks);
			print_rauditd(&st);
			print_json(&ks, &st, true);
		}
		status_free(&st);
	} else {
		(void)cmd_simple(type, "fuzz");
	}
	stderr = saved;
	fclose(null);
	pthread_join(t, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd0;

	if (size < 2)
		return 0;
	fd0 = lowest_free_fd();
	if (data[0] & 1)
		fuzz_client(data + 1, size - 1);
	else
		fuzz_server(data + 1, size - 1);
	if (lowest_free_fd() != fd0) {
		fprintf(stderr, "fd leak: lowest free fd was %d\n", fd0);
		abort();
	}
	return 0;
}
