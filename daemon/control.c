/*
 * control.c - this file serves the control socket on the main loop: it
 * accepts clients, checks their credentials, reads one framed request,
 * writes the reply and END, and closes, never blocking on a client.
 */
#include "build_config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "control_proto.h"

/* At most this many clients at once; more are closed at accept. */
#define CONTROL_MAX_CLIENTS	16
/* A whole conversation must finish within this many seconds. */
#define CONTROL_CLIENT_TIMEOUT	5.0
/* Requests carry no payload today; anything larger is not a request. */
#define CONTROL_MAX_REQUEST	256
/* Supplementary groups of a peer we look at (SO_PEERGROUPS). */
#define CONTROL_MAX_GROUPS	64

struct client {
	ev_io		 io;		/* first member: the watcher is the client */
	ev_timer	 timer;
	struct control	*c;
	int		 fd;
	bool		 used;
	struct control_peer peer;
	unsigned char	 in[sizeof(struct control_hdr) + CONTROL_MAX_REQUEST];
	size_t		 inlen;
	char		*out;
	size_t		 outlen, outoff;
};

struct control {
	ev_io		 listen;	/* first member */
	struct ev_loop	*loop;
	int		 fd;
	int		 pathfd;	/* O_PATH to the socket file we bound */
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	gid_t		 group;
	bool		 group_set;
	control_handler	*fn;
	void		*arg;
	char		*payload;	/* CONTROL_MAX_PAYLOAD, for the handler */
	struct client	 clients[CONTROL_MAX_CLIENTS];
	uint64_t	 served, refused, dropped;
};

static void
client_close(struct client *cl)
{
	if (!cl->used)
		return;
	ev_io_stop(cl->c->loop, &cl->io);
	ev_timer_stop(cl->c->loop, &cl->timer);
	close(cl->fd);
	free(cl->out);
	cl->out = NULL;
	cl->used = false;
}

static void
put_msg(char *dst, uint16_t type, const void *payload, size_t len)
{
	struct control_hdr h = { CONTROL_VERSION, type, (uint32_t)len, 0 };

	memcpy(dst, &h, sizeof(h));
	if (len)
		memcpy(dst + sizeof(h), payload, len);
}

/* Queue reply (type, payload) followed by END, and switch to writing. */
static void
client_reply(struct client *cl, uint16_t type, const void *payload, size_t len)
{
	size_t total = 2 * sizeof(struct control_hdr) + len;

	cl->out = malloc(total);
	if (cl->out == NULL) {
		cl->c->dropped++;
		client_close(cl);
		return;
	}
	put_msg(cl->out, type, payload, len);
	put_msg(cl->out + sizeof(struct control_hdr) + len, CONTROL_REP_END, NULL, 0);
	cl->outlen = total;
	cl->outoff = 0;
	ev_io_stop(cl->c->loop, &cl->io);
	ev_io_set(&cl->io, cl->fd, EV_WRITE);
	ev_io_start(cl->c->loop, &cl->io);
}

static void
client_error(struct client *cl, const char *msg)
{
	client_reply(cl, CONTROL_REP_ERROR, msg, strlen(msg));
}

static void
handle_request(struct client *cl)
{
	struct control_hdr h;
	struct control_reply rep;

	memcpy(&h, cl->in, sizeof(h));
	if (h.version != CONTROL_VERSION) {
		client_error(cl, "unsupported control protocol version");
		return;
	}
	rep.type = CONTROL_REP_ERROR;
	rep.buf = cl->c->payload;
	rep.len = 0;
	cl->c->fn(cl->c->arg, h.type, &cl->peer, &rep);
	cl->c->served++;
	client_reply(cl, rep.type, rep.buf, rep.len);
}

static void
client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *cl = (struct client *)w;
	ssize_t n;

	(void)loop;
	if (revents & EV_READ) {
		n = read(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(cl);	/* gone, or an error: nothing to answer */
			return;
		}
		cl->inlen += (size_t)n;
		if (cl->inlen >= sizeof(struct control_hdr)) {
			struct control_hdr h;
			memcpy(&h, cl->in, sizeof(h));
			if (h.len > CONTROL_MAX_REQUEST || h.reserved != 0) {
				cl->c->dropped++;
				client_error(cl, "malformed request");
				return;
			}
			if (cl->inlen >= sizeof(h) + h.len)
				handle_request(cl);
		}
		return;
	}
	if (revents & EV_WRITE) {
		n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			client_close(cl);
			return;
		}
		cl->outoff += (size_t)n;
		if (cl->outoff == cl->outlen)
			client_close(cl);
	}
}

static void
client_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *cl = w->data;

	(void)loop;
	(void)revents;
	cl->c->dropped++;
	client_close(cl);
}

/* Is the peer in group g, as primary or supplementary group? */
static bool
peer_in_group(int fd, gid_t primary, gid_t g)
{
	gid_t groups[CONTROL_MAX_GROUPS];
	socklen_t len = sizeof(groups);

	if (primary == g)
		return true;
#ifdef SO_PEERGROUPS
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (groups[i] == g)
				return true;
#endif
	return false;
}

/*
 * The peer's login uid, as the kernel keeps it: /proc/PID/loginuid holds a
 * decimal number and nothing else. The peer is connected and waiting for
 * our reply, so PID is still it.
 */
static uint32_t
peer_loginuid(pid_t pid)
{
	char path[64], buf[16], *end;
	unsigned long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/loginuid", (long)pid);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return (uint32_t)-1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (uint32_t)-1;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\0' && *end != '\n') || v > UINT32_MAX)
		return (uint32_t)-1;
	return (uint32_t)v;
}

/* Who connected: pid and uid from the socket, its LSM label, its login uid. */
static void
peer_identity(int fd, const struct ucred *cred, struct control_peer *p)
{
	socklen_t len = sizeof(p->subj) - 1;

	p->pid = cred->pid;
	p->uid = cred->uid;
	p->auid = peer_loginuid(cred->pid);
	memset(p->subj, 0, sizeof(p->subj));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERSEC, p->subj, &len) < 0 || len == 0) {
		p->subj[0] = '\0';
		return;
	}
	p->subj[len < sizeof(p->subj) ? len : sizeof(p->subj) - 1] = '\0';
	/* It goes into a record as one field: no space, no control byte. */
	for (char *c = p->subj; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control *c = (struct control *)w;
	struct client *cl = NULL;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	(void)revents;
	fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (!c->clients[i].used) {
			cl = &c->clients[i];
			break;
		}
	if (cl == NULL) {
		c->dropped++;
		close(fd);
		return;
	}
	memset(cl, 0, sizeof(*cl));
	cl->c = c;
	cl->fd = fd;
	cl->used = true;
	ev_io_init(&cl->io, client_cb, fd, EV_READ);
	ev_timer_init(&cl->timer, client_timeout_cb, CONTROL_CLIENT_TIMEOUT, 0.);
	cl->timer.data = cl;
	ev_io_start(loop, &cl->io);
	ev_timer_start(loop, &cl->timer);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		c->refused++;
		client_error(cl, "cannot read peer credentials");
		return;
	}
	if (cred.uid == 0) {
		cl->peer.privileged = true;
		peer_identity(fd, &cred, &cl->peer);
	} else if (c->group_set && peer_in_group(fd, cred.gid, c->group)) {
		cl->peer.privileged = false;
		peer_identity(fd, &cred, &cl->peer);
	} else {
		c->refused++;
		client_error(cl, "permission denied: the control socket is for root"
		    " (or the configured control_group)");
	}
}

/*
 * The run directory must be ours: a directory another user can write (or
 * a link to one) lets that user replace control.sock with an impostor or
 * with a link that a chmod by path would follow.
 */
static int
check_run_dir(const char *run_dir, const char **what)
{
	struct stat st;

	*what = "create run directory";
	if (mkdir(run_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(run_dir, &st) < 0)
		return -errno;
	*what = "run directory is not a directory (a symbolic link?)";
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*what = "run directory is owned by another user";
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return -EPERM;
	*what = "run directory is writable by group or others";
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return -EPERM;
	return 0;
}

/*
 * Mode and group of the socket file, through the descriptor taken right
 * after bind: never through the path, where a link may have been planted
 * since. chmod needs a path: /proc/self/fd/N names the inode itself.
 */
static int
set_mode_by_fd(int pathfd, gid_t group, bool group_set)
{
	char proc[64];

	if (group_set && fchownat(pathfd, "", (uid_t)-1, group, AT_EMPTY_PATH) < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	if (chmod(proc, group_set ? 0660 : 0600) < 0)
		return -errno;
	return 0;
}

struct control *
control_open(struct ev_loop *loop, const char *run_dir, gid_t group,
    bool group_set, control_handler *fn, void *arg, const char **what)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c;
	mode_t old;
	int e, n;

	*what = "allocate";
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->pathfd = -1;
	c->payload = malloc(CONTROL_MAX_PAYLOAD);
	if (c->payload == NULL)
		goto fail;
	c->loop = loop;
	c->fn = fn;
	c->arg = arg;
	c->group = group;
	c->group_set = group_set;

	if ((e = check_run_dir(run_dir, what)) < 0) {
		errno = -e;
		goto fail;
	}
	n = snprintf(c->path, sizeof(c->path), "%s/%s", run_dir, CONTROL_SOCKET_NAME);
	*what = "socket path too long";
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);

	*what = "socket";
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	/* A socket file left by a crash is stale; a live daemon answers. */
	if (access(c->path, F_OK) == 0) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			*what = "another rauditd is listening on the control socket";
			errno = EADDRINUSE;
			goto fail;
		}
		if (probe >= 0)
			close(probe);
		unlink(c->path);
	}
	*what = "bind";
	old = umask(0177);
	n = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (n < 0)
		goto fail;
	*what = "open the socket file";
	c->pathfd = open(c->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (c->pathfd < 0)
		goto fail;
	{
		struct stat st;
		*what = "the socket file was replaced after bind";
		if (fstat(c->pathfd, &st) < 0)
			goto fail;
		if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
			errno = EEXIST;
			goto fail;
		}
	}
	*what = "chmod";
	if (group_set && (e = set_mode_by_fd(c->pathfd, group, true)) < 0) {
		errno = -e;
		goto fail;
	}
	*what = "listen";
	if (listen(c->fd, CONTROL_MAX_CLIENTS) < 0)
		goto fail;
	ev_io_init(&c->listen, accept_cb, c->fd, EV_READ);
	ev_io_start(loop, &c->listen);
	return c;
fail:
	e = errno;
	if (c->fd >= 0)
		close(c->fd);
	if (c->pathfd >= 0)
		close(c->pathfd);
	free(c->payload);
	free(c);
	errno = e;
	return NULL;
}

int
control_set_group(struct control *c, gid_t group, bool group_set)
{
	int rc;

	c->group = group;
	c->group_set = group_set;
	rc = set_mode_by_fd(c->pathfd, group, group_set);
	if (rc < 0 && group_set) {
		/* Members could not reach the socket: do not claim they may. */
		c->group_set = false;
		(void)set_mode_by_fd(c->pathfd, group, false);
	}
	return rc;
}

/* Remove the socket file only if the path still names it. */
static void
unlink_if_ours(struct control *c)
{
	struct stat a, b;

	if (c->pathfd >= 0 && fstat(c->pathfd, &a) == 0 && lstat(c->path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		unlink(c->path);
	if (c->pathfd >= 0)
		close(c->pathfd);
	c->pathfd = -1;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];
		/* A reply already queued (to "stop", say) is small: try once. */
		if (cl->used && cl->out != NULL)
			(void)send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		client_close(cl);
	}
	ev_io_stop(c->loop, &c->listen);
	close(c->fd);
	unlink_if_ours(c);
	free(c->payload);
	free(c);
}

void
control_counts(const struct control *c, uint64_t *served, uint64_t *refused,
    uint64_t *dropped)
{
	*served = c->served;
	*refused = c->refused;
	*dropped = c->dropped;
}
