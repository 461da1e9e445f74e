// SPDX-License-Identifier: GPL-2.0
/*
 * hostile: feed the abuse module what a broken or malicious server would
 * -- bad arguments, stale, replayed, duplicated and forged handles,
 * completions through the wrong descriptor or from the wrong process --
 * and check that each one gets the documented answer and that real
 * requests still complete exactly once, with the right data.
 *
 *   hostile                 the protocol checks (device 60)
 *   hostile replay SCHED    replays under I/O scheduler SCHED (device 61)
 *   hostile race SECONDS    ADD/REMOVE/RESET/ATTACH/START on one index from
 *                           several threads (device 62)
 *   hostile unprivileged    run without CAP_SYS_ADMIN: every control
 *                           request is refused (device 60 must not exist)
 *
 * Run as root in the test guest with the module loaded.  Prints one
 * "hostile: FAIL ..." line per failed check; the exit status is the
 * number of failures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abuse.h"

#define BAD_PTR	((void *)16)

static int failures;
static int idx = 60;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);	\
		printf("hostile: FAIL line %d: ", __LINE__);		\
		printf(__VA_ARGS__);					\
		printf(" (errno %d %s)\n", errno, strerror(errno));	\
	}								\
} while (0)

#define EXPECT_ERR(call, err) do {					\
	errno = 0;							\
	long _r = (call);						\
	CHECK(_r == -1 && errno == (err), "%s: got %ld, want %s",	\
	      #call, _r, #err);						\
} while (0)

static int ctl(void)
{
	int fd = open("/dev/abctl", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("/dev/abctl");
		exit(100);
	}
	return fd;
}

static int attached(void)
{
	int fd = ctl();

	CHECK(!ioctl(fd, ABUSE_ATTACH, idx), "attach");
	return fd;
}

static struct abuse_dev_info status(int fd)
{
	struct abuse_dev_info i = { .index = idx };

	CHECK(!ioctl(fd, ABUSE_CTL_GET_STATUS, &i), "status");
	return i;
}

static void add(int fd, uint32_t flags, uint32_t depth)
{
	struct abuse_dev_info info = {
		.index = idx, .size = 1 << 20,
		.flags = flags | ABUSE_FLAG_NO_PARTSCAN, .queue_depth = depth,
	};

	CHECK(!ioctl(fd, ABUSE_CTL_ADD, &info), "add abuse%d", idx);
	CHECK(info.state == ABUSE_STATE_ADDED, "state after add: %u",
	      info.state);
}

static void bad_add(int fd)
{
	struct abuse_dev_info base = { .index = idx, .size = 1 << 20 };
	struct abuse_dev_info i;

	i = base; i.block_size = 1000;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.size = 0;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.size = 1000;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.size = ~0ULL << 9;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.flags = 0x80;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.reserved[0] = 1;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.reserved[1] = 1ULL << 63;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.queue_depth = 100000;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.nr_hw_queues = 1000;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.max_req_bytes = 100;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.max_req_bytes = 64 << 20;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.flags = ABUSE_FLAG_SET_TIMEOUT; i.timeout = ~0U;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.flags = ABUSE_FLAG_SET_IO_TIMEOUT; i.io_timeout = ~0U;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.index = -7;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.index = 0x7fffffff;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, NULL), EFAULT);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, BAD_PTR), EFAULT);
}

static void bad_index(int fd)
{
	struct abuse_dev_info i = { .index = 999 };
	struct abuse_backing b = { .index = 999 };
	uint64_t features = 0;

	CHECK(!ioctl(fd, ABUSE_GET_FEATURES, &features) &&
	      (features & ABUSE_FEAT_SEQ_HANDLES) &&
	      (features & ABUSE_FEAT_START), "features %llx",
	      (unsigned long long)features);
	EXPECT_ERR(ioctl(fd, ABUSE_GET_FEATURES, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_REMOVE, 999), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_REMOVE, -1L), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_RESET, 999), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_RESET, -1L), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_START, 999), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_START, -1L), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_STATUS, &i), ENODEV);
	i.index = 1 << 20;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_NEXT, &i), ENODEV);
	i.index = -1;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_STATUS, &i), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_NEXT, &i), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_STATUS, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_SET_BACKING, &b), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_BACKING, &b), ENODEV);
	b.reserved = 1;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_BACKING, &b), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_SET_BACKING, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(fd, ABUSE_ATTACH, 999), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_ATTACH, -1L), EINVAL);
	EXPECT_ERR(ioctl(fd, _IO(ABUSE_IOC_MAGIC, 0x7f)), ENOTTY);
	/* The first interface's numbers mean nothing now. */
	EXPECT_ERR(ioctl(fd, _IO(ABUSE_IOC_MAGIC, 0x10), idx), ENOTTY);
	EXPECT_ERR(ioctl(fd, ABUSE_COMMIT_AND_FETCH, NULL), EFAULT);
}

/* Child: one O_DIRECT read or write of len bytes at @off; exit 0 on success. */
static pid_t io_child(int write, size_t len, off_t off, int sync)
{
	pid_t pid = fork();
	char path[64];
	void *buf;
	int fd;

	if (pid)
		return pid;
	/* Do not keep the parent's server descriptors alive. */
	close_range(3, ~0U, 0);
	snprintf(path, sizeof(path), "/dev/abuse%d", idx);
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0 || posix_memalign(&buf, 4096, len))
		_exit(2);
	memset(buf, 0x5a, len);
	if ((write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off)) !=
	    (ssize_t)len)
		_exit(1);
	if (sync && fdatasync(fd))
		_exit(1);
	if (!write) {
		size_t i;

		/* The server answers reads with bytes (offset & 0xff) ^ 0xa5. */
		for (i = 0; i < len; i++)
			if (((unsigned char *)buf)[i] !=
			    (((off + i) & 0xff) ^ 0xa5))
				_exit(3);
	}
	_exit(0);
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* 0 if @pid has not ended within @ms milliseconds, else its status. */
static int child_ended(pid_t pid, int ms)
{
	int st;

	while (ms-- > 0) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? 100 + WEXITSTATUS(st) : -1;
		usleep(1000);
	}
	return 0;
}

static int xfer(int fd, struct abuse_completion *c, unsigned int nc,
		struct abuse_request *r, unsigned int nr, void *data,
		unsigned int dlen, struct abuse_xfer *out)
{
	struct abuse_xfer x = {
		.cmpl_addr = (uintptr_t)c, .cmpl_count = nc,
		.req_addr = (uintptr_t)r, .req_count = nr,
		.data_addr = (uintptr_t)data, .data_len = dlen,
	};
	int ret = ioctl(fd, ABUSE_COMMIT_AND_FETCH, &x);

	if (out)
		*out = x;
	return ret;
}

static void wait_queued(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN),
	      "poll did not report a queued request");
}

static char rbuf[1 << 20];

/* The answer to a read of @len bytes at @off (see io_child). */
static struct abuse_completion answer(const struct abuse_request *r)
{
	uint32_t i;

	for (i = 0; i < r->len; i++)
		rbuf[i] = ((r->offset + i) & 0xff) ^ 0xa5;
	return (struct abuse_completion){ .tag = r->tag, .seq = r->seq,
		.len = r->len, .addr = (uintptr_t)rbuf };
}

static int fetch1(int fd, struct abuse_request *r)
{
	static char data[1 << 20];

	wait_queued(fd);
	return xfer(fd, NULL, 0, r, 1, data, sizeof(data), NULL);
}

static void protocol(int ctlfd)
{
	static char data[1 << 20];
	struct abuse_request r[8];
	struct abuse_completion c[4];
	struct abuse_xfer x;
	struct abuse_dev_info st;
	int srv, srv2, srv3, n, ep;
	pid_t pid;

	add(ctlfd, 0, 4);
	{
		struct abuse_dev_info info = { .index = idx, .size = 1 << 20 };

		EXPECT_ERR(ioctl(ctlfd, ABUSE_CTL_ADD, &info), EEXIST);
	}
	/* START needs a server: the partition scan would wait for one. */
	EXPECT_ERR(ioctl(ctlfd, ABUSE_CTL_START, idx), ENOTCONN);

	srv = ctl();
	/* An epoll set up before ATTACH must still wake for requests. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	{
		struct epoll_event ev = { .events = EPOLLIN };

		CHECK(!epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev), "epoll_ctl");
	}
	EXPECT_ERR(xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL), ENXIO);
	CHECK(!ioctl(srv, ABUSE_ATTACH, idx), "attach");
	EXPECT_ERR(ioctl(srv, ABUSE_ATTACH, idx), EBUSY);
	CHECK(!ioctl(ctlfd, ABUSE_CTL_START, idx), "start");
	CHECK(!ioctl(ctlfd, ABUSE_CTL_START, idx), "second start");
	st = status(ctlfd);
	CHECK(st.state == ABUSE_STATE_LIVE && st.nr_servers == 1,
	      "state %u servers %u", st.state, st.nr_servers);
	fcntl(srv, F_SETFL, O_NONBLOCK);
	EXPECT_ERR(xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL), EAGAIN);

	/* malformed transfers */
	{
		struct abuse_xfer bad = { .reserved0 = 1 };

		EXPECT_ERR(ioctl(srv, ABUSE_COMMIT_AND_FETCH, &bad), EINVAL);
		bad.reserved0 = 0;
		bad.reserved1 = 1;
		EXPECT_ERR(ioctl(srv, ABUSE_COMMIT_AND_FETCH, &bad), EINVAL);
		bad.reserved1 = 0;
		bad.cmpl_count = 100000;
		EXPECT_ERR(ioctl(srv, ABUSE_COMMIT_AND_FETCH, &bad), EINVAL);
		bad.cmpl_count = 3;
		bad.cmpl_addr = (uintptr_t)BAD_PTR;
		EXPECT_ERR(ioctl(srv, ABUSE_COMMIT_AND_FETCH, &bad), EFAULT);
		bad.cmpl_addr = 0xffffffffffff0000ULL;
		EXPECT_ERR(ioctl(srv, ABUSE_COMMIT_AND_FETCH, &bad), EFAULT);
	}

	/* garbage handles are rejected and counted */
	memset(c, 0, sizeof(c));
	c[0].tag = 0xffffffff;
	c[1].tag = 0;
	c[1].seq = 12345;
	c[2].tag = 3;
	c[3].tag = 1u << 31;
	n = xfer(srv, c, 4, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_done == 0 && x.cmpl_errors == 4,
	      "garbage handles: n=%d done=%u errors=%u", n, x.cmpl_done,
	      x.cmpl_errors);

	/* a read, seen by the epoll made before ATTACH */
	pid = io_child(0, 4096, 0, 0);
	{
		struct epoll_event ev;

		CHECK(epoll_wait(ep, &ev, 1, 10000) == 1 &&
		      (ev.events & EPOLLIN), "early epoll did not wake");
	}
	close(ep);
	EXPECT_ERR(xfer(srv, NULL, 0, BAD_PTR, 8, data, sizeof(data), NULL),
		   EFAULT);
	n = xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL);
	CHECK(n == 1 && r[0].op == ABUSE_OP_READ && r[0].len == 4096 &&
	      !r[0].reserved, "fetch read: n=%d", n);
	/* Rejected completions leave the request with its server. */
	c[0] = answer(&r[0]);
	c[0].len = 512;
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "short read completion accepted");
	c[0] = answer(&r[0]);
	c[0].addr = (uintptr_t)BAD_PTR;
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "bad payload address accepted");
	c[0] = answer(&r[0]);
	c[0].reserved = 1;
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "reserved field accepted");
	c[0] = answer(&r[0]);
	c[0].result = 12345;	/* positive: invalid */
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "positive result accepted");
	c[0] = answer(&r[0]);
	c[0].seq++;
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "wrong seq accepted");
	CHECK(child_ended(pid, 300) == 0, "reader ended early");
	/* ... and a good one then completes it, once. */
	c[0] = answer(&r[0]);
	c[1] = c[0];
	n = xfer(srv, c, 2, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_done == 1 && x.cmpl_errors == 1,
	      "double completion: done=%u errors=%u", x.cmpl_done,
	      x.cmpl_errors);
	CHECK(child_status(pid) == 0, "reader should get its data");
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "replayed completion accepted");

	/* a foreign descriptor cannot complete what another one fetched */
	srv2 = attached();
	pid = io_child(0, 4096, 8192, 0);
	n = fetch1(srv, r);
	CHECK(n == 1, "fetch for foreign test: n=%d", n);
	c[0] = answer(&r[0]);
	n = xfer(srv2, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "foreign completion accepted");
	CHECK(child_ended(pid, 300) == 0, "foreign completion ended the read");
	/* nor can a process that merely inherited the descriptor */
	{
		pid_t kid = fork();

		if (!kid) {
			struct abuse_xfer kx = {
				.cmpl_addr = (uintptr_t)c, .cmpl_count = 1,
			};

			_exit(ioctl(srv, ABUSE_COMMIT_AND_FETCH, &kx) == -1 &&
			      errno == EPERM ? 0 : 1);
		}
		CHECK(child_status(kid) == 0,
		      "another process served an inherited descriptor");
	}
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_done == 1, "owner completion refused");
	CHECK(child_status(pid) == 0, "reader (foreign test) failed");

	/* a write: no room, bad data address */
	pid = io_child(1, 8192, 0, 0);
	wait_queued(srv);
	EXPECT_ERR(xfer(srv, NULL, 0, r, 8, data, 4096, NULL), ENOSPC);
	EXPECT_ERR(xfer(srv, NULL, 0, r, 8, BAD_PTR, 1 << 20, NULL), EFAULT);
	n = xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL);
	CHECK(n == 1 && r[0].op == ABUSE_OP_WRITE && r[0].len == 8192 &&
	      (unsigned char)data[r[0].data_offset] == 0x5a,
	      "fetch write: n=%d", n);

	/*
	 * Recovery: closing the descriptor that holds the write while a
	 * sibling of the same process stays attached holds the write (a
	 * live thread may still be writing it); once every descriptor of
	 * the process is gone it goes back to the queue.
	 */
	c[0] = (struct abuse_completion){ .tag = r[0].tag, .seq = r[0].seq };
	close(srv);
	st = status(ctlfd);
	CHECK(st.held == 1 && st.inflight == 1 && st.queued == 0,
	      "after close with a sibling: held %u inflight %u queued %u",
	      st.held, st.inflight, st.queued);
	fcntl(srv2, F_SETFL, O_NONBLOCK);
	EXPECT_ERR(xfer(srv2, NULL, 0, r + 1, 7, data, sizeof(data), NULL),
		   EAGAIN);
	n = xfer(srv2, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "held request completed");
	close(srv2);
	st = status(ctlfd);
	CHECK(st.held == 0 && st.queued == 1 && st.nr_servers == 0,
	      "after the last close: held %u queued %u servers %u", st.held,
	      st.queued, st.nr_servers);
	srv3 = attached();
	n = xfer(srv3, NULL, 0, r + 1, 7, data, sizeof(data), NULL);
	CHECK(n == 1 && r[1].tag == r[0].tag && r[1].seq > r[0].seq,
	      "requeued write: n=%d", n);
	n = xfer(srv3, c, 1, r, 0, NULL, 0, &x);	/* old handle */
	CHECK(n == 0 && x.cmpl_errors == 1, "stale handle accepted");
	c[0].seq = r[1].seq;
	n = xfer(srv3, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_done == 1, "requeued write completion");
	CHECK(child_status(pid) == 0, "writer should succeed");

	/* reset fails what is queued; removal is refused while open */
	pid = io_child(0, 4096, 0, 0);
	wait_queued(srv3);
	{
		char path[64];
		int bfd;

		snprintf(path, sizeof(path), "/dev/abuse%d", idx);
		bfd = open(path, O_RDONLY);
		EXPECT_ERR(ioctl(ctlfd, ABUSE_CTL_REMOVE, idx), EBUSY);
		close(bfd);
	}
	CHECK(!ioctl(ctlfd, ABUSE_CTL_RESET, idx), "reset");
	CHECK(child_status(pid) == 1, "reader after reset should see EIO");

	/* backing text round trip */
	{
		struct abuse_backing b = { .index = idx };

		strcpy(b.text, "/some/image.qcow2");
		CHECK(!ioctl(ctlfd, ABUSE_CTL_SET_BACKING, &b), "set backing");
		memset(b.text, 'x', sizeof(b.text));
		CHECK(!ioctl(ctlfd, ABUSE_CTL_GET_BACKING, &b) &&
		      !strcmp(b.text, "/some/image.qcow2"), "get backing");
		memset(b.text, 'x', sizeof(b.text));
		EXPECT_ERR(ioctl(ctlfd, ABUSE_CTL_SET_BACKING, &b), EINVAL);
	}
	/* NEXT finds the device from below */
	{
		struct abuse_dev_info i = { .index = idx - 3 };

		CHECK(!ioctl(ctlfd, ABUSE_CTL_NEXT, &i) && i.index == idx,
		      "next: %d", i.index);
	}

	/* removal with a server attached: the server sees ENODEV */
	CHECK(!ioctl(ctlfd, ABUSE_CTL_REMOVE, idx), "remove");
	EXPECT_ERR(xfer(srv3, NULL, 0, r, 8, data, sizeof(data), NULL),
		   ENODEV);
	{
		struct pollfd p = { .fd = srv3, .events = POLLIN };

		CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP),
		      "poll after remove");
	}
	EXPECT_ERR(ioctl(ctlfd, ABUSE_CTL_REMOVE, idx), ENODEV);
	close(srv3);
}

/*
 * Replays under an I/O scheduler: with one, several request structures
 * share a driver tag, so a handle must stay unique across all of them.
 * Every completed handle is replayed after each new request, and once
 * more in the same batch; none may be accepted.  Reads carry a pattern
 * the child checks, writes are followed by fdatasync (flush requests).
 */
static int replay(const char *sched)
{
	enum { ROUNDS = 40 };
	static char data[1 << 20];
	struct abuse_completion old[3 * ROUNDS], c[2];
	struct abuse_request r;
	struct abuse_xfer x;
	unsigned int nold = 0, accepted = 0, i, round;
	char path[128];
	int ctlfd = ctl(), srv;
	FILE *f;

	idx = 61;
	add(ctlfd, 0, 2);
	srv = attached();
	CHECK(!ioctl(ctlfd, ABUSE_CTL_START, idx), "start");
	snprintf(path, sizeof(path), "/sys/block/abuse%d/queue/scheduler", idx);
	f = fopen(path, "w");
	CHECK(f && fputs(sched, f) >= 0 && fclose(f) == 0,
	      "set scheduler %s", sched);
	fcntl(srv, F_SETFL, O_NONBLOCK);

	for (round = 0; round < ROUNDS; round++) {
		int write = round % 3 == 2;
		pid_t pid = io_child(write, 4096, (round % 16) * 4096, write);
		int ended = 0, waited = 0;

		/* A write brings a flush after it: serve until the child ends. */
		while (!(ended = child_ended(pid, 1)) && waited++ < 20000) {
			struct pollfd p = { .fd = srv, .events = POLLIN };
			int n;

			if (poll(&p, 1, 100) != 1)
				continue;
			n = xfer(srv, NULL, 0, &r, 1, data, sizeof(data), NULL);
			if (n != 1)
				continue;
			/* First the replays of everything done before. */
			for (i = 0; i < nold; i++) {
				xfer(srv, &old[i], 1, NULL, 0, NULL, 0, &x);
				accepted += x.cmpl_done;
			}
			c[0] = r.op == ABUSE_OP_READ ? answer(&r) :
				(struct abuse_completion){ .tag = r.tag,
							   .seq = r.seq };
			c[1] = c[0];
			xfer(srv, c, 2, NULL, 0, NULL, 0, &x);
			CHECK(x.cmpl_done == 1 && x.cmpl_errors == 1,
			      "%s round %u: done %u errors %u", sched, round,
			      x.cmpl_done, x.cmpl_errors);
			if (nold < sizeof(old) / sizeof(old[0]))
				old[nold++] = c[0];
		}
		CHECK(ended == 100, "%s round %u: the %s failed (%d)", sched,
		      round, write ? "writer" : "reader", ended);
	}
	CHECK(accepted == 0, "%s: %u replayed handles accepted", sched,
	      accepted);
	printf("hostile: %s: %u requests, %u replays, %u accepted\n", sched,
	       nold, nold * (nold - 1) / 2, accepted);
	close(srv);
	CHECK(!ioctl(ctlfd, ABUSE_CTL_REMOVE, idx), "remove");
	close(ctlfd);
	return failures;
}

/* ---- race: lifecycle requests on one index from several threads ---- */

static volatile int race_stop;

static void *race_thread(void *arg)
{
	unsigned int seed = (uintptr_t)arg;
	int fd = ctl();

	while (!race_stop) {
		int op = rand_r(&seed) % 6, ret, srv;
		struct abuse_dev_info info = {
			.index = idx, .size = 1 << 20,
			.flags = rand_r(&seed) % 2 ? ABUSE_FLAG_NO_PARTSCAN : 0,
		};

		errno = 0;
		switch (op) {
		case 0:
			ret = ioctl(fd, ABUSE_CTL_ADD, &info);
			CHECK(!ret || errno == EEXIST, "race add");
			break;
		case 1:
			ret = ioctl(fd, ABUSE_CTL_REMOVE, idx);
			CHECK(!ret || errno == ENODEV || errno == EBUSY,
			      "race remove");
			break;
		case 2:
			ret = ioctl(fd, ABUSE_CTL_RESET, idx);
			CHECK(!ret || errno == ENODEV, "race reset");
			break;
		case 3:
			ret = ioctl(fd, ABUSE_CTL_GET_STATUS, &info);
			CHECK(!ret || errno == ENODEV, "race status");
			break;
		default:
			/* A short-lived server, started or not. */
			srv = ctl();
			ret = ioctl(srv, ABUSE_ATTACH, idx);
			CHECK(!ret || errno == ENODEV, "race attach");
			if (!ret && op == 5) {
				/*
				 * START may scan partitions: serve that from
				 * a forked helper would be too slow here; a
				 * NO_PARTSCAN device needs no I/O, and one
				 * that needs it fails the scan once we close.
				 */
				fcntl(srv, F_SETFL, O_NONBLOCK);
				ret = ioctl(fd, ABUSE_CTL_START, idx);
				CHECK(!ret || errno == ENODEV ||
				      errno == ENOTCONN, "race start");
			}
			close(srv);
			break;
		}
	}
	close(fd);
	return NULL;
}

static int race(int seconds)
{
	pthread_t t[4];
	unsigned int i;
	int fd;

	idx = 62;
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, race_thread,
			       (void *)(uintptr_t)(i + 1));
	sleep(seconds);
	race_stop = 1;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	fd = ctl();
	if (ioctl(fd, ABUSE_CTL_REMOVE, idx))
		CHECK(errno == ENODEV, "final remove");
	close(fd);
	return failures;
}

/* ---- without CAP_SYS_ADMIN ---- */

static int unprivileged(void)
{
	struct abuse_dev_info info = { .index = idx, .size = 1 << 20 };
	struct abuse_backing b = { .index = idx };
	uint64_t features;
	int fd = ctl();

	CHECK(!ioctl(fd, ABUSE_GET_FEATURES, &features), "features");
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &info), EPERM);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_REMOVE, idx), EPERM);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_RESET, idx), EPERM);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_START, idx), EPERM);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_STATUS, &info), EPERM);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_NEXT, &info), EPERM);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_SET_BACKING, &b), EPERM);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_BACKING, &b), EPERM);
	EXPECT_ERR(ioctl(fd, ABUSE_ATTACH, idx), EPERM);
	EXPECT_ERR(xfer(fd, NULL, 0, NULL, 0, NULL, 0, NULL), ENXIO);
	close(fd);
	return failures;
}

int main(int argc, char **argv)
{
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(240);	/* a hang is a failure, not a stuck test run */
	if (argc == 3 && !strcmp(argv[1], "replay"))
		return replay(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "race"))
		return race(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "unprivileged"))
		return unprivileged();
	if (argc != 1) {
		fprintf(stderr, "usage: hostile [replay SCHED | race SECONDS | unprivileged]\n");
		return 100;
	}
	fd = ctl();
	bad_add(fd);
	bad_index(fd);
	protocol(fd);
	close(fd);
	printf("hostile: %d failures\n", failures);
	return failures;
}
