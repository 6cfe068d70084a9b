/*
 * record.h - what the ring's records mean, shared by the producer
 * (netlink_rx) and the consumer (writer): the tags the daemon uses for its
 * own records and the payload of a loss marker.
 *
 * A record's tag is the kernel's record type (below 0x10000) for a kernel
 * record; tags from RECORD_TAG_DAEMON up carry records the daemon put into
 * the ring itself. Such records are not counted as received from the kernel.
 */
#ifndef RAUDITD_RECORD_H
#define RAUDITD_RECORD_H

#include <stdint.h>

/* Tags at or above this carry daemon-internal records, not kernel ones. */
#define RECORD_TAG_DAEMON	0xffff0000u
/* A loss marker: the payload is a struct record_loss. */
#define RECORD_TAG_LOSS		0xffff0000u

/*
 * Payload of a loss marker: count records were lost for reason, between
 * the kernel serials first_serial and last_serial when has_serials is set.
 * Native byte order; the ring never leaves the host.
 */
struct record_loss {
	uint32_t	reason;		/* enum drop_reason (stats.h) */
	uint32_t	has_serials;	/* first/last are known */
	uint64_t	count;
	uint64_t	first_serial;
	uint64_t	last_serial;
};

/*
 * The names the writer (writer.c) and its tests still use; they go once
 * those say RECORD_TAG_LOSS and struct record_loss.
 */
#define RX_TAG_LOSS	RECORD_TAG_LOSS
#define rx_loss		record_loss

#endif
