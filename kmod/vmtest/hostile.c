// SPDX-License-Identifier: GPL-2.0
/*
 * hostile: feed the abuse module bad ioctl arguments -- wrong handles,
 * lengths, addresses, indexes and sizes -- and check that each one gets
 * the documented error and that real requests still complete exactly
 * once.  Run as root with the module loaded and no device at index 60.
 * Exit status: number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abuse.h"

#define IDX	60
#define BAD_PTR	((void *)16)

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
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
	int fd = open("/dev/abctl", O_RDWR);

	if (fd < 0) {
		perror("/dev/abctl");
		exit(100);
	}
	return fd;
}

static void bad_add(int fd)
{
	struct abuse_dev_info base = { .index = IDX, .size = 1 << 20 };
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
	i = base; i.reserved = 1;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.queue_depth = 100000;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.nr_hw_queues = 1000;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.max_req_bytes = 100;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_ADD, &i), EINVAL);
	i = base; i.max_req_bytes = 64 << 20;
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

	EXPECT_ERR(ioctl(fd, ABUSE_CTL_REMOVE, 999), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_REMOVE, -1L), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_RESET, 999), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_RESET, -1L), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_STATUS, &i), ENODEV);
	i.index = -1;
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_STATUS, &i), EINVAL);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_GET_STATUS, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_SET_BACKING, &b), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_CTL_SET_BACKING, BAD_PTR), EFAULT);
	EXPECT_ERR(ioctl(fd, ABUSE_ATTACH, 999), ENODEV);
	EXPECT_ERR(ioctl(fd, ABUSE_ATTACH, -1L), EINVAL);
	EXPECT_ERR(ioctl(fd, _IO(ABUSE_IOC_MAGIC, 0x7f)), ENOTTY);
	EXPECT_ERR(ioctl(fd, ABUSE_COMMIT_AND_FETCH, NULL), EFAULT);
}

/* Child: one O_DIRECT read or write of len bytes at 0; exit 0 on success. */
static pid_t io_child(int write, size_t len)
{
	pid_t pid = fork();
	char path[64];
	void *buf;
	int fd;

	if (pid)
		return pid;
	/* Do not keep the parent's server descriptors alive. */
	close_range(3, ~0U, 0);
	snprintf(path, sizeof(path), "/dev/abuse%d", IDX);
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0 || posix_memalign(&buf, 4096, len))
		_exit(2);
	memset(buf, 0x5a, len);
	if ((write ? pwrite(fd, buf, len, 0) : pread(fd, buf, len, 0)) !=
	    (ssize_t)len)
		_exit(1);
	_exit(0);
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
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

static void requests(int ctlfd)
{
	struct abuse_dev_info info = {
		.index = IDX, .size = 1 << 20, .flags = ABUSE_FLAG_NO_PARTSCAN,
		.queue_depth = 4,
	};
	static char data[1 << 20], rbuf[1 << 16];
	struct abuse_request r[8];
	struct abuse_completion c[4];
	struct abuse_xfer x;
	int srv, srv2, n;
	pid_t pid;

	CHECK(!ioctl(ctlfd, ABUSE_CTL_ADD, &info), "add");
	EXPECT_ERR(ioctl(ctlfd, ABUSE_CTL_ADD, &info), EEXIST);

	srv = ctl();
	EXPECT_ERR(xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL), ENXIO);
	CHECK(!ioctl(srv, ABUSE_ATTACH, IDX), "attach");
	EXPECT_ERR(ioctl(srv, ABUSE_ATTACH, IDX), EBUSY);
	fcntl(srv, F_SETFL, O_NONBLOCK);
	EXPECT_ERR(xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL), EAGAIN);

	/* malformed transfers */
	{
		struct abuse_xfer bad = { .reserved0 = 1 };

		EXPECT_ERR(ioctl(srv, ABUSE_COMMIT_AND_FETCH, &bad), EINVAL);
		bad.reserved0 = 0;
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
	c[1].generation = 12345;
	c[2].tag = 3;
	c[3].tag = 1u << 31;
	n = xfer(srv, c, 4, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_done == 0 && x.cmpl_errors == 4,
	      "garbage handles: n=%d done=%u errors=%u", n, x.cmpl_done,
	      x.cmpl_errors);

	/* a read: bad request array, then a wrong completion length */
	pid = io_child(0, 4096);
	wait_queued(srv);
	EXPECT_ERR(xfer(srv, NULL, 0, BAD_PTR, 8, data, sizeof(data), NULL),
		   EFAULT);
	n = xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL);
	CHECK(n == 1 && r[0].op == ABUSE_OP_READ && r[0].len == 4096,
	      "fetch read: n=%d", n);
	c[0] = (struct abuse_completion){ .tag = r[0].tag,
		.generation = r[0].generation, .len = 512,
		.addr = (uintptr_t)rbuf };
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "short read completion accepted");
	CHECK(child_status(pid) == 1, "reader should see EIO");

	/* a read completed from an unmapped address */
	pid = io_child(0, 4096);
	wait_queued(srv);
	n = xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL);
	CHECK(n == 1, "fetch read 2: n=%d", n);
	c[0] = (struct abuse_completion){ .tag = r[0].tag,
		.generation = r[0].generation, .len = 4096,
		.addr = (uintptr_t)BAD_PTR };
	n = xfer(srv, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_errors == 1, "bad payload address accepted");
	CHECK(child_status(pid) == 1, "reader 2 should see EIO");

	/* double completion in one batch: the second is rejected */
	pid = io_child(0, 4096);
	wait_queued(srv);
	n = xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL);
	CHECK(n == 1, "fetch read 3: n=%d", n);
	c[0] = (struct abuse_completion){ .tag = r[0].tag,
		.generation = r[0].generation, .len = 4096,
		.addr = (uintptr_t)rbuf };
	c[1] = c[0];
	c[2] = c[0];
	c[2].result = 12345;	/* positive result: invalid */
	n = xfer(srv, c, 3, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_done == 1 && x.cmpl_errors == 2,
	      "double completion: done=%u errors=%u", x.cmpl_done,
	      x.cmpl_errors);
	CHECK(child_status(pid) == 0, "reader 3 should succeed");

	/* a write: no room, bad data address, then crash recovery */
	pid = io_child(1, 8192);
	wait_queued(srv);
	EXPECT_ERR(xfer(srv, NULL, 0, r, 8, data, 4096, NULL), ENOSPC);
	EXPECT_ERR(xfer(srv, NULL, 0, r, 8, BAD_PTR, 1 << 20, NULL), EFAULT);
	n = xfer(srv, NULL, 0, r, 8, data, sizeof(data), NULL);
	CHECK(n == 1 && r[0].op == ABUSE_OP_WRITE && r[0].len == 8192 &&
	      (unsigned char)data[r[0].data_offset] == 0x5a,
	      "fetch write: n=%d", n);
	srv2 = ctl();
	CHECK(!ioctl(srv2, ABUSE_ATTACH, IDX), "attach 2");
	c[0] = (struct abuse_completion){ .tag = r[0].tag,
		.generation = r[0].generation };
	close(srv);		/* the server dies holding the write */
	n = xfer(srv2, NULL, 0, r + 1, 7, data, sizeof(data), NULL);
	CHECK(n == 1 && r[1].tag == r[0].tag &&
	      r[1].generation != r[0].generation,
	      "requeued write: n=%d", n);
	n = xfer(srv2, c, 1, r, 0, NULL, 0, &x);	/* old handle */
	CHECK(n == 0 && x.cmpl_errors == 1, "stale generation accepted");
	c[0].generation = r[1].generation;
	n = xfer(srv2, c, 1, r, 0, NULL, 0, &x);
	CHECK(n == 0 && x.cmpl_done == 1, "requeued write completion");
	CHECK(child_status(pid) == 0, "writer should succeed");

	/* reset fails what is queued; removal is refused while open */
	pid = io_child(0, 4096);
	sleep(1);
	{
		int bfd = open("/dev/abuse60", O_RDONLY);

		EXPECT_ERR(ioctl(ctlfd, ABUSE_CTL_REMOVE, IDX), EBUSY);
		close(bfd);
	}
	CHECK(!ioctl(ctlfd, ABUSE_CTL_RESET, IDX), "reset");
	CHECK(child_status(pid) == 1, "reader after reset should see EIO");

	/* removal with a server attached: the server sees ENODEV */
	CHECK(!ioctl(ctlfd, ABUSE_CTL_REMOVE, IDX), "remove");
	EXPECT_ERR(xfer(srv2, NULL, 0, r, 8, data, sizeof(data), NULL),
		   ENODEV);
	{
		struct pollfd p = { .fd = srv2, .events = POLLIN };

		CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP),
		      "poll after remove");
	}
	close(srv2);
}

int main(void)
{
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);	/* a hang is a failure, not a stuck test run */
	fd = ctl();
	bad_add(fd);
	bad_index(fd);
	requests(fd);
	close(fd);
	printf("hostile: %d failures\n", failures);
	return failures;
}
