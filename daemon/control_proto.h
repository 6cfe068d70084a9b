/*
 * control_proto.h - the wire format of rauditd's control socket.
 *
 * A unix stream socket, run_dir/control.sock. Each message is a fixed
 * header followed by len bytes of payload. A client sends one request and
 * reads replies until CONTROL_REP_END. Request codes are stable; new ones
 * get new numbers. Status is a payload of "name value\n" lines, so a newer
 * daemon can add counters without breaking an older rauditctl.
 *
 * This is the only daemon header rauditctl needs to talk to the daemon.
 */
#ifndef RAUDITD_CONTROL_PROTO_H
#define RAUDITD_CONTROL_PROTO_H

#include <stdint.h>

#define CONTROL_VERSION		1
#define CONTROL_SOCKET_NAME	"control.sock"
/* Largest payload either side sends or accepts. */
#define CONTROL_MAX_PAYLOAD	(64 * 1024)

struct control_hdr {
	uint16_t	version;	/* CONTROL_VERSION */
	uint16_t	type;		/* enum control_type */
	uint32_t	len;		/* payload bytes that follow */
	uint32_t	reserved;	/* 0 */
};

enum control_type {
	/* Requests. */
	CONTROL_REQ_STATUS	= 1,	/* reply: CONTROL_REP_STATUS */
	CONTROL_REQ_ROTATE	= 2,	/* reply: CONTROL_REP_OK */
	CONTROL_REQ_RELOAD	= 3,
	CONTROL_REQ_STOP	= 4,
	CONTROL_REQ_STATE	= 5,	/* reply: CONTROL_REP_TEXT, the state report */
	CONTROL_REQ_RESUME	= 6,
	CONTROL_REQ_UPGRADE	= 7,	/* re-exec in place, same pid */

	/* Replies. */
	CONTROL_REP_STATUS	= 101,	/* "name value\n" lines */
	CONTROL_REP_OK		= 102,
	CONTROL_REP_ERROR	= 103,	/* payload: a message */
	CONTROL_REP_TEXT	= 104,
	CONTROL_REP_END		= 199,	/* always last */
};

#endif
