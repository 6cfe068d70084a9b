/*
 * control.h - the control socket server, on the main thread's event loop.
 *
 * A unix stream socket under run_dir, created with a tight umask. Peer
 * credentials are checked on accept: root may do everything, members of the
 * configured group may read status, everyone else is refused. Every client
 * is non-blocking with bounded buffers and a deadline, and there is a cap on
 * clients, so a slow or hostile client can never stall the loop.
 */
#ifndef RAUDITD_CONTROL_H
#define RAUDITD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

struct control;

/* What a request handler writes back: a type and a payload. */
struct control_reply {
	uint16_t	type;
	char		*buf;		/* CONTROL_MAX_PAYLOAD bytes */
	size_t		len;
};

/*
 * Who is on the other end, read when it connected: from the socket
 * (SO_PEERCRED, SO_PEERSEC), never from anything the client sends, and its
 * login uid from the kernel's /proc/PID/loginuid. A record that names who
 * asked (DAEMON_END, DAEMON_ROTATE, DAEMON_CONFIG) uses it.
 */
struct control_peer {
	bool		privileged;	/* root: may do everything */
	pid_t		pid;
	uid_t		uid;
	uint32_t	auid;		/* (uint32_t)-1: unset or unreadable */
	char		subj[256];	/* LSM label, printable bytes only; "" none */
};

/*
 * Called for each well-formed request; fills rep. peer->privileged is false
 * for a status-only (group) client, which the handler must refuse for
 * anything but status and state.
 */
typedef void control_handler(void *arg, uint16_t type, const struct control_peer *peer,
    struct control_reply *rep);

/*
 * Listen on run_dir/control.sock (run_dir created 0755 if missing, refused
 * if it is a link, another user's, or writable by group or others; a stale
 * socket is replaced, a live one is an error). The socket file's mode and
 * group are set through a descriptor taken at bind, never through the path
 * again. gid < 0: root only.
 * Returns NULL with errno set; *what names the failing step.
 */
struct control *control_open(struct ev_loop *loop, const char *run_dir,
    gid_t group, bool group_set, control_handler *fn, void *arg,
    const char **what);

/* Change the group allowed to read status (SIGHUP), on the socket file
 * bound at open even if the path was replaced since. 0 or a negative errno
 * (giving the socket to a group needs CAP_CHOWN, kept only when a group
 * was configured at start). */
int control_set_group(struct control *c, gid_t group, bool group_set);

/* Stop listening, drop clients, unlink the socket. */
void control_close(struct control *c);

/* Clients refused (credentials), dropped (timeout, overflow, garbage). */
void control_counts(const struct control *c, uint64_t *served, uint64_t *refused,
    uint64_t *dropped);

#endif
