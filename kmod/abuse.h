/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * abuse: A Block device in User SpacE -- user space interface.
 *
 * This header is the whole contract between the abuse module and its
 * servers.  Every structure uses fixed-width types only, has explicit
 * padding, no unions and no bitfields, and a size that is a multiple of
 * 8 bytes, so it can be mirrored field by field (e.g. with JNA).  User
 * memory is always passed as a __u64 address.  All integers are in the
 * CPU's native byte order.  Reserved fields must be zero: the module
 * refuses anything else with EINVAL, so they can gain a meaning later.
 *
 * Flow:
 *  1. open("/dev/abctl", O_RDWR); ABUSE_GET_FEATURES tells what this
 *     module offers (a server refuses to run without what it needs).
 *  2. ABUSE_CTL_ADD a device: it gets its number and its size, but no
 *     block device node yet (state ABUSE_STATE_ADDED).
 *  3. On any number of descriptors (one per server thread), open
 *     /dev/abctl again and ABUSE_ATTACH N.
 *  4. ABUSE_CTL_START N, from a thread that does not serve: the disk is
 *     added, /dev/abuseN appears and the kernel reads the partition
 *     table (served by the attached threads) before START returns.
 *  5. Each serving thread loops on ABUSE_COMMIT_AND_FETCH: hand back the
 *     results of the requests served since the last call, and receive
 *     the next batch.
 *  6. ABUSE_CTL_REMOVE N deletes the device (EBUSY while it is open).
 *
 * Who may do what:
 *  - Every request but ABUSE_GET_FEATURES needs CAP_SYS_ADMIN (EPERM).
 *  - ABUSE_COMMIT_AND_FETCH is accepted only from a thread of the process
 *    that attached the descriptor (EPERM otherwise: a descriptor passed
 *    to or inherited by another process cannot serve), and a request can
 *    only be completed through the descriptor that fetched it.
 *
 * Handles: a fetched request is known by (tag, seq).  seq is a number
 * the device gives each fetch and never gives again, so a late,
 * duplicated, replayed or forged completion matches nothing and is
 * rejected (counted, see `errors`) without touching any request.
 *
 * Time limits (seconds; 0 means no limit):
 *  - io_timeout: a request not completed within io_timeout of being
 *    fetched -- or, while servers are attached, of being queued -- fails
 *    with EIO (a stopped or deadlocked server cannot hold I/O forever).
 *  - timeout (no-server timeout): once the last server has gone, queued
 *    requests wait this long for a new one, then fail with EIO, and so
 *    do new requests until a server attaches again.
 *
 * Recovery: when a server dies, its fetched requests are kept (HELD)
 * until every descriptor its process attached to the device has been
 * released, so that no thread of it can still be executing them; then
 * they are requeued at the head of the queue for the next server, or
 * failed with EIO if the device was added with ABUSE_FLAG_RECOVERY_FAIL.
 * Closing one descriptor while its process keeps others attached does the
 * same: its requests are held until the whole server is gone (or until
 * io_timeout fails them).
 */
#ifndef _UAPI_LINUX_ABUSE_H
#define _UAPI_LINUX_ABUSE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ABUSE_CTL_DEV_NAME	"abctl"		/* /dev/abctl */
#define ABUSE_DISK_PREFIX	"abuse"		/* /dev/abuse0, /dev/abuse0p1 */

/* Limits checked by ABUSE_CTL_ADD. */
#define ABUSE_MAX_QUEUE_DEPTH	4096		/* requests per hw queue */
#define ABUSE_MAX_HW_QUEUES	64
#define ABUSE_MIN_REQ_BYTES	4096		/* bytes */
#define ABUSE_MAX_REQ_BYTES	(4U << 20)	/* bytes */
#define ABUSE_MAX_BATCH		4096		/* entries per call */
#define ABUSE_BACKING_LEN	248		/* bytes, NUL included */

/* ABUSE_GET_FEATURES: what this module offers. */
#define ABUSE_FEAT_SEQ_HANDLES	(1ULL << 0)	/* (tag, seq) handles */
#define ABUSE_FEAT_START	(1ULL << 1)	/* ABUSE_CTL_START adds the disk */
#define ABUSE_FEAT_IO_TIMEOUT	(1ULL << 2)	/* io_timeout, timeouts */
#define ABUSE_FEAT_RECOVERY	(1ULL << 3)	/* held requests, RECOVERY_FAIL */
#define ABUSE_FEAT_NEXT		(1ULL << 4)	/* ABUSE_CTL_NEXT, GET_BACKING */

/* struct abuse_dev_info.flags */
#define ABUSE_FLAG_READ_ONLY	(1U << 0)	/* kernel refuses writes */
#define ABUSE_FLAG_NO_PARTSCAN	(1U << 1)	/* no partition scan */
#define ABUSE_FLAG_SET_TIMEOUT	(1U << 2)	/* use .timeout, not the module's
						 * no_server_timeout
						 */
#define ABUSE_FLAG_SET_IO_TIMEOUT (1U << 3)	/* use .io_timeout, not the
						 * module's io_timeout
						 */
#define ABUSE_FLAG_RECOVERY_FAIL (1U << 4)	/* a dead server's requests
						 * fail with EIO instead of
						 * being requeued
						 */
#define ABUSE_FLAGS_ALL		0x1fU

/* struct abuse_dev_info.state */
#define ABUSE_STATE_ADDED	0	/* no block device yet: START it */
#define ABUSE_STATE_LIVE	1	/* /dev/abuseN exists */
#define ABUSE_STATE_DEAD	2	/* being removed */

/*
 * Device description.  ABUSE_CTL_ADD reads the "in" fields (zero means
 * "default" for every tunable) and writes the whole structure back as
 * the device was created.  ABUSE_CTL_GET_STATUS reads only .index and
 * writes everything back; ABUSE_CTL_NEXT writes back the device with the
 * lowest number >= .index.  Size: 96 bytes.
 */
struct abuse_dev_info {
	__s32 index;		/*  0 in/out: device number, -1 = first free */
	__u32 flags;		/*  4 in/out: ABUSE_FLAG_* */
	__u64 size;		/*  8 in/out: bytes, multiple of block_size */
	__u32 block_size;	/* 16 in/out: logical block, bytes: 512|4096;
				 *    0 = 512
				 */
	__u32 max_req_bytes;	/* 20 in/out: bytes per request, multiple of
				 *    4096 in [4096, 4 MiB]; 0 = 1 MiB
				 */
	__u32 queue_depth;	/* 24 in/out: requests per hw queue,
				 *    1..4096; 0 = 128
				 */
	__u32 nr_hw_queues;	/* 28 in/out: 1..64, 0 = 1 (may be lowered
				 *    to the number of CPUs)
				 */
	__u32 timeout;		/* 32 in/out: no-server timeout, seconds,
				 *    0 = never; read only with
				 *    ABUSE_FLAG_SET_TIMEOUT
				 */
	__u32 io_timeout;	/* 36 in/out: I/O timeout, seconds, 0 = never;
				 *    read only with ABUSE_FLAG_SET_IO_TIMEOUT
				 */
	__u32 state;		/* 40 out: ABUSE_STATE_* */
	__u32 nr_servers;	/* 44 out: descriptors attached now */
	__u32 queued;		/* 48 out: requests waiting to be fetched */
	__u32 inflight;		/* 52 out: requests fetched, not completed
				 *    (held ones included)
				 */
	__u32 held;		/* 56 out: of those, requests of a dead
				 *    server waiting for its process to end
				 */
	__s32 server_pid;	/* 60 out: process of the last attached
				 *    server, 0 = never attached
				 */
	__u64 errors;		/* 64 out: completions rejected so far */
	__u64 timeouts;		/* 72 out: requests failed by io_timeout */
	__u64 reserved[2];	/* 80 must be 0 */
};

/*
 * Backing description shown in /sys/block/abuseN/abuse/backing: the
 * server's own words (e.g. the image path), how a new server finds the
 * device of a dead one.  Size: 256 bytes.
 */
struct abuse_backing {
	__s32 index;		/*   0 device number */
	__u32 reserved;		/*   4 must be 0 */
	char text[ABUSE_BACKING_LEN];	/* 8 NUL-terminated text */
};

/* struct abuse_request.op */
#define ABUSE_OP_READ		0	/* server sends len bytes back */
#define ABUSE_OP_WRITE		1	/* payload is in the data buffer */
#define ABUSE_OP_FLUSH		2	/* make earlier writes durable */
#define ABUSE_OP_DISCARD	3	/* range may be dropped */
#define ABUSE_OP_WRITE_ZEROES	4	/* range must read back as zeroes */

/* struct abuse_request.flags */
#define ABUSE_REQ_FUA		(1U << 0)	/* durable before completion */
#define ABUSE_REQ_NOUNMAP	(1U << 1)	/* WRITE_ZEROES: keep allocated */

/*
 * A request handed to a server.  The handle (tag, seq) identifies it
 * until it is completed; it is never valid again afterwards.
 * Size: 40 bytes.
 */
struct abuse_request {
	__u32 tag;		/*  0 handle part 1: slot number */
	__u32 op;		/*  4 ABUSE_OP_* */
	__u64 seq;		/*  8 handle part 2: fetch number, unique for
				 *    the life of the device
				 */
	__u64 offset;		/* 16 bytes from the start of the device */
	__u32 len;		/* 24 bytes; 0 for FLUSH */
	__u32 flags;		/* 28 ABUSE_REQ_* */
	__u32 data_offset;	/* 32 WRITE: bytes from data_addr where the
				 *    payload starts; 0 otherwise
				 */
	__u32 reserved;		/* 36 0 */
};

/*
 * The result of one request.  For a successful READ, .len must equal the
 * request's len and .addr points to that many bytes.  A completion that
 * is malformed, stale, or names a request this descriptor did not fetch
 * is rejected and changes nothing; one whose READ payload cannot be read
 * (EFAULT) is rejected too and leaves the request with the server, which
 * may complete it again.  Size: 32 bytes.
 */
struct abuse_completion {
	__u32 tag;		/*  0 from abuse_request.tag */
	__s32 result;		/*  4 0, or a negative errno (-EIO, -ENOSPC..) */
	__u64 seq;		/*  8 from abuse_request.seq */
	__u64 addr;		/* 16 READ: user address of the payload */
	__u32 len;		/* 24 READ: payload bytes at .addr */
	__u32 reserved;		/* 28 must be 0 */
};

/*
 * Argument of ABUSE_COMMIT_AND_FETCH.  Size: 56 bytes.
 *
 * The kernel first consumes the cmpl_count completions at cmpl_addr
 * (each one is accepted or counted in cmpl_errors), then fetches up to
 * req_count requests into req_addr, copying each WRITE payload into the
 * data buffer at the abuse_request.data_offset it reports.  It waits
 * (interruptibly) for at least one request unless the descriptor is
 * O_NONBLOCK (then EAGAIN) or req_count is 0.
 *
 * Returns the number of requests fetched (>= 0), or -1 with errno:
 *  EINVAL  malformed argument; nothing was done
 *  EFAULT  an array address is unusable; completions before it were done
 *  ENOSPC  the first queued WRITE does not fit in data_len
 *  EAGAIN  O_NONBLOCK and no request queued
 *  EINTR   a signal arrived while waiting
 *  ENODEV  the device was removed
 *  ENXIO   the descriptor is not attached
 *  EPERM   the caller is not of the process that attached the descriptor
 * cmpl_done and cmpl_errors are written back in every case but EINVAL,
 * EPERM and a fault on the structure itself.
 */
struct abuse_xfer {
	__u64 cmpl_addr;	/*  0 user address of abuse_completion[] */
	__u32 cmpl_count;	/*  8 entries at cmpl_addr, <= 4096 */
	__u32 req_count;	/* 12 room at req_addr, entries, <= 4096 */
	__u64 req_addr;		/* 16 user address of abuse_request[] */
	__u64 data_addr;	/* 24 user address of the write data buffer */
	__u32 data_len;		/* 32 bytes at data_addr; >= max_req_bytes
				 *    to be sure any write fits
				 */
	__u32 cmpl_done;	/* 36 out: completions accepted */
	__u32 cmpl_errors;	/* 40 out: completions rejected (stale or
				 *    foreign handle, bad length or address)
				 */
	__u32 reserved0;	/* 44 must be 0 */
	__u64 reserved1;	/* 48 must be 0 */
};

#define ABUSE_IOC_MAGIC		0xAB

/*
 * Control requests, any /dev/abctl descriptor.  Numbers 0x10 and 0x11
 * belonged to the first version of this interface (32-bit generations)
 * and are not used again.
 */
#define ABUSE_CTL_ADD		_IOWR(ABUSE_IOC_MAGIC, 0x00, struct abuse_dev_info)
#define ABUSE_CTL_REMOVE	_IO(ABUSE_IOC_MAGIC, 0x01)	/* arg: index */
#define ABUSE_CTL_GET_STATUS	_IOWR(ABUSE_IOC_MAGIC, 0x02, struct abuse_dev_info)
#define ABUSE_CTL_RESET		_IO(ABUSE_IOC_MAGIC, 0x03)	/* arg: index */
#define ABUSE_CTL_SET_BACKING	_IOW(ABUSE_IOC_MAGIC, 0x04, struct abuse_backing)
#define ABUSE_GET_FEATURES	_IOR(ABUSE_IOC_MAGIC, 0x05, __u64)
#define ABUSE_CTL_START		_IO(ABUSE_IOC_MAGIC, 0x06)	/* arg: index */
#define ABUSE_CTL_NEXT		_IOWR(ABUSE_IOC_MAGIC, 0x07, struct abuse_dev_info)
#define ABUSE_CTL_GET_BACKING	_IOWR(ABUSE_IOC_MAGIC, 0x08, struct abuse_backing)

/* Server requests. */
#define ABUSE_ATTACH		_IO(ABUSE_IOC_MAGIC, 0x12)	/* arg: index */
#define ABUSE_COMMIT_AND_FETCH	_IOWR(ABUSE_IOC_MAGIC, 0x13, struct abuse_xfer)

#endif /* _UAPI_LINUX_ABUSE_H */
