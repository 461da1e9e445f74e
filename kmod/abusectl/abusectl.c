// SPDX-License-Identifier: GPL-2.0
/*
 * abusectl: reference server and control tool for the abuse module.
 *
 *   abusectl serve FILE [--index N] [--read-only] [--block-size 512|4096]
 *                       [--threads T] [--keep] [--timeout S]
 *                       [--io-timeout S] [--no-partscan]
 *                       [--queue-depth D] [--hw-queues Q] [--delay-us US]
 *   abusectl list
 *   abusectl reset N
 *   abusectl remove N
 *
 * serve creates /dev/abuseN backed by FILE, or attaches to device N when
 * it exists with no server (how a crashed server is replaced), and serves
 * it until SIGTERM/SIGINT; then it removes the device unless --keep.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "abuse.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER	57
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT		4
#endif

#define CTL_PATH	"/dev/" ABUSE_CTL_DEV_NAME
/* What this server needs of the module. */
#define NEEDED_FEATURES	(ABUSE_FEAT_SEQ_HANDLES | ABUSE_FEAT_START | \
			 ABUSE_FEAT_NEXT)
#define BATCH		64
#define WBUF_BYTES	(8U << 20)

struct serve_opts {
	const char *file;
	int index;		/* -1: new device, first free */
	int read_only;
	unsigned int block_size;
	unsigned int threads;
	int keep;
	int no_partscan;
	long timeout;		/* -1: module default */
	long io_timeout;	/* -1: module default */
	unsigned int queue_depth;
	unsigned int hw_queues;
	unsigned long delay_us;	/* tests: pause before serving a batch */
};

static const char *prog = "abusectl";
static int backing_fd = -1;
static int dev_index = -1;
static unsigned int max_req;
static unsigned long delay_us;
static volatile sig_atomic_t stopping;
static unsigned int workers_alive;
static unsigned int workers_attached;
static pthread_mutex_t alive_lock = PTHREAD_MUTEX_INITIALIZER;

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static unsigned long need_uint(const char *what, const char *s,
			       unsigned long max)
{
	unsigned long v;

	if (parse_uint(s, max, &v))
		die("bad %s '%s' (want an integer 0..%lu)", what,
		    s ? s : "", max);
	return v;
}

static int open_ctl(void)
{
	int fd = open(CTL_PATH, O_RDWR | O_CLOEXEC);
	uint64_t features = 0;

	if (fd < 0)
		die("%s: %s (is the abuse module loaded?)", CTL_PATH,
		    strerror(errno));
	if (ioctl(fd, ABUSE_GET_FEATURES, &features) ||
	    (features & NEEDED_FEATURES) != NEEDED_FEATURES)
		die("%s: the loaded abuse module is older than this abusectl "
		    "(reload it: rmmod abuse; insmod abuse.ko)", CTL_PATH);
	return fd;
}

/*
 * A server thread must not wait for its own device when the kernel
 * reclaims memory (PR_SET_IO_FLUSHER), and its pages must not be paged
 * out to a device only it can page them back in from (mlockall).
 */
static void io_flusher(void)
{
	static int warned;

	if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) && !__atomic_exchange_n(
		    &warned, 1, __ATOMIC_RELAXED))
		fprintf(stderr, "%s: PR_SET_IO_FLUSHER: %s\n", prog,
			strerror(errno));
}

/* ---- request service ---- */

static int full_pread(int fd, char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {		/* past the end of the file */
			memset(buf, 0, len);
			return 0;
		}
		buf += n;
		len -= n;
		off += n;
	}
	return 0;
}

static int full_pwrite(int fd, const char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
		off += n;
	}
	return 0;
}

static int write_zeroes(int fd, off_t off, size_t len, int unmap)
{
	static const char zero[65536];
	int mode = unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE;

	if (!fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	if (!unmap && !fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				 FALLOC_FL_KEEP_SIZE, off, len) &&
	    !fallocate(fd, 0, off, len))
		return 0;
	while (len) {
		size_t n = len < sizeof(zero) ? len : sizeof(zero);
		int ret = full_pwrite(fd, zero, n, off);

		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

static int serve_one(const struct abuse_request *r, const char *wbuf,
		     char *rbuf, struct abuse_completion *c)
{
	int fd = backing_fd;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->tag = r->tag;
	c->seq = r->seq;
	switch (r->op) {
	case ABUSE_OP_READ:
		ret = full_pread(fd, rbuf, r->len, r->offset);
		c->len = r->len;
		c->addr = (uintptr_t)rbuf;
		break;
	case ABUSE_OP_WRITE:
		ret = full_pwrite(fd, wbuf + r->data_offset, r->len,
				  r->offset);
		if (!ret && (r->flags & ABUSE_REQ_FUA) && fdatasync(fd))
			ret = -errno;
		break;
	case ABUSE_OP_FLUSH:
		if (fdatasync(fd))
			ret = -errno;
		break;
	case ABUSE_OP_DISCARD:
		/* Advisory: a failed hole punch loses nothing. */
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  r->offset, r->len);
		break;
	case ABUSE_OP_WRITE_ZEROES:
		ret = write_zeroes(fd, r->offset, r->len,
				   !(r->flags & ABUSE_REQ_NOUNMAP));
		break;
	default:
		ret = -EOPNOTSUPP;
	}
	c->result = ret;
	return ret;
}

static void sigusr1_handler(int sig)
{
	(void)sig;
}

static void worker_exit(void)
{
	pthread_mutex_lock(&alive_lock);
	workers_alive--;
	pthread_mutex_unlock(&alive_lock);
}

static void *worker(void *arg)
{
	struct abuse_request req[BATCH];
	struct abuse_completion cmpl[BATCH];
	size_t rbuf_len = (size_t)BATCH * max_req;
	char *wbuf, *rbuf;
	unsigned int ncmpl = 0;
	int fd = open_ctl();

	(void)arg;
	io_flusher();
	wbuf = malloc(WBUF_BYTES);
	rbuf = mmap(NULL, rbuf_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!wbuf || rbuf == MAP_FAILED)
		die("out of memory");
	if (ioctl(fd, ABUSE_ATTACH, dev_index))
		die("attach abuse%d: %s", dev_index, strerror(errno));
	pthread_mutex_lock(&alive_lock);
	workers_attached++;
	pthread_mutex_unlock(&alive_lock);

	for (;;) {
		struct abuse_xfer x = {
			.cmpl_addr = (uintptr_t)cmpl,
			.cmpl_count = ncmpl,
			.req_addr = (uintptr_t)req,
			.req_count = stopping ? 0 : BATCH,
			.data_addr = (uintptr_t)wbuf,
			.data_len = WBUF_BYTES,
		};
		size_t roff = 0;
		int i, n;

		n = ioctl(fd, ABUSE_COMMIT_AND_FETCH, &x);
		if (x.cmpl_errors)
			fprintf(stderr, "%s: abuse%d: %u completions rejected\n",
				prog, dev_index, x.cmpl_errors);
		ncmpl = 0;	/* consumed, whatever the result */
		if (n < 0) {
			if (errno == EINTR && !stopping)
				continue;
			if (errno == EINTR || errno == ENODEV)
				break;
			fprintf(stderr, "%s: abuse%d: fetch: %s\n", prog,
				dev_index, strerror(errno));
			break;
		}
		if (stopping && x.req_count == 0)
			break;
		if (n > 0 && delay_us)
			usleep(delay_us);
		for (i = 0; i < n; i++) {
			serve_one(&req[i], wbuf, rbuf + roff, &cmpl[ncmpl]);
			if (req[i].op == ABUSE_OP_READ)
				roff += req[i].len;
			ncmpl++;
		}
	}
	close(fd);	/* anything still fetched goes back to the queue */
	munmap(rbuf, rbuf_len);
	free(wbuf);
	worker_exit();
	return NULL;
}

/* ---- serve ---- */

static uint64_t backing_size(int fd, const char *path)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st))
		die("%s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size))
			die("%s: %s", path, strerror(errno));
		return size;
	}
	if (!S_ISREG(st.st_mode))
		die("%s: not a regular file or block device", path);
	return st.st_size;
}

static void set_backing(int ctl, const char *file)
{
	struct abuse_backing b = { .index = dev_index };
	char *real = realpath(file, NULL);

	snprintf(b.text, sizeof(b.text), "%s", real ? real : file);
	free(real);
	if (ioctl(ctl, ABUSE_CTL_SET_BACKING, &b))
		fprintf(stderr, "%s: set backing: %s\n", prog,
			strerror(errno));
}

/* Create the device, or take over a server-less one.  Returns 1 if new. */
static int setup_device(int ctl, const struct serve_opts *o, uint64_t size)
{
	struct abuse_dev_info info = { .index = o->index };

	if (o->index >= 0 && !ioctl(ctl, ABUSE_CTL_GET_STATUS, &info)) {
		if (info.nr_servers)
			die("abuse%d already has %u server(s)", o->index,
			    info.nr_servers);
		if (size < info.size)
			die("%s is smaller than abuse%d (%llu < %llu bytes)",
			    o->file, o->index, (unsigned long long)size,
			    (unsigned long long)info.size);
		if (!(info.flags & ABUSE_FLAG_READ_ONLY) && o->read_only)
			die("abuse%d is writable, FILE opened read-only",
			    o->index);
		dev_index = info.index;
		max_req = info.max_req_bytes;
		return 0;
	}
	if (o->index >= 0 && errno != ENODEV)
		die("abuse%d: %s", o->index, strerror(errno));

	memset(&info, 0, sizeof(info));
	info.index = o->index;
	info.size = size - size % o->block_size;
	info.block_size = o->block_size;
	info.queue_depth = o->queue_depth;
	info.nr_hw_queues = o->hw_queues;
	if (o->read_only)
		info.flags |= ABUSE_FLAG_READ_ONLY;
	if (o->no_partscan)
		info.flags |= ABUSE_FLAG_NO_PARTSCAN;
	if (o->timeout >= 0) {
		info.flags |= ABUSE_FLAG_SET_TIMEOUT;
		info.timeout = o->timeout;
	}
	if (o->io_timeout >= 0) {
		info.flags |= ABUSE_FLAG_SET_IO_TIMEOUT;
		info.io_timeout = o->io_timeout;
	}
	if (!info.size)
		die("%s: smaller than one block", o->file);
	if (ioctl(ctl, ABUSE_CTL_ADD, &info))
		die("add device: %s", strerror(errno));
	dev_index = info.index;
	max_req = info.max_req_bytes;
	return 1;
}

static void stop_workers(pthread_t *tids, unsigned int n)
{
	unsigned int i, left;

	stopping = 1;
	for (;;) {
		pthread_mutex_lock(&alive_lock);
		left = workers_alive;
		pthread_mutex_unlock(&alive_lock);
		if (!left)
			break;
		for (i = 0; i < n; i++)
			pthread_kill(tids[i], SIGUSR1);
		usleep(50000);
	}
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
}

static int cmd_serve(const struct serve_opts *o)
{
	struct sigaction sa = { .sa_handler = sigusr1_handler };
	struct timespec tick = { .tv_sec = 0, .tv_nsec = 200000000 };
	pthread_t *tids;
	sigset_t set;
	unsigned int i;
	int ctl, created, ret = 0;
	uint64_t size;

	delay_us = o->delay_us;
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))
		fprintf(stderr, "%s: mlockall: %s\n", prog, strerror(errno));
	backing_fd = open(o->file, (o->read_only ? O_RDONLY : O_RDWR) |
			  O_CLOEXEC);
	if (backing_fd < 0)
		die("%s: %s", o->file, strerror(errno));
	size = backing_size(backing_fd, o->file);
	ctl = open_ctl();
	created = setup_device(ctl, o, size);
	set_backing(ctl, o->file);

	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: breaks the wait */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	tids = calloc(o->threads, sizeof(*tids));
	if (!tids)
		die("out of memory");
	workers_alive = o->threads;
	for (i = 0; i < o->threads; i++)
		if (pthread_create(&tids[i], NULL, worker, NULL))
			die("pthread_create failed");
	for (;;) {
		unsigned int n;

		pthread_mutex_lock(&alive_lock);
		n = workers_attached;
		pthread_mutex_unlock(&alive_lock);
		if (n == o->threads)
			break;
		usleep(1000);
	}
	/* The disk appears and its partitions are read, served by the workers. */
	if (ioctl(ctl, ABUSE_CTL_START, dev_index))
		die("start abuse%d: %s", dev_index, strerror(errno));
	printf("/dev/%s%d\n", ABUSE_DISK_PREFIX, dev_index);
	fflush(stdout);
	fprintf(stderr, "%s: %s abuse%d backed by %s, %u thread(s)\n", prog,
		created ? "created" : "attached to", dev_index, o->file,
		o->threads);

	for (;;) {
		unsigned int left;

		if (sigtimedwait(&set, NULL, &tick) > 0)
			break;
		pthread_mutex_lock(&alive_lock);
		left = workers_alive;
		pthread_mutex_unlock(&alive_lock);
		if (!left) {
			fprintf(stderr, "%s: abuse%d: all servers stopped\n",
				prog, dev_index);
			ret = 1;
			break;
		}
	}

	/* Remove while the workers still serve: removal may need I/O. */
	if (!o->keep && ret == 0 && ioctl(ctl, ABUSE_CTL_REMOVE, dev_index)) {
		fprintf(stderr, "%s: remove abuse%d: %s; left in place\n",
			prog, dev_index, strerror(errno));
		ret = 1;
	}
	stop_workers(tids, o->threads);
	free(tids);
	close(ctl);
	close(backing_fd);
	return ret;
}

/* ---- list, reset, remove ---- */

static const char *state_name(uint32_t state)
{
	switch (state) {
	case ABUSE_STATE_ADDED:
		return "added";
	case ABUSE_STATE_LIVE:
		return "live";
	case ABUSE_STATE_DEAD:
		return "dead";
	}
	return "?";
}

static int cmd_list(void)
{
	struct abuse_dev_info info = { .index = 0 };
	int ctl = open_ctl();

	printf("%-10s %-5s %14s %5s %7s %6s %8s %4s %8s  %s\n", "DEVICE",
	       "STATE", "SIZE", "BS", "SERVERS", "QUEUED", "INFLIGHT", "HELD",
	       "PID", "BACKING");
	while (!ioctl(ctl, ABUSE_CTL_NEXT, &info)) {
		struct abuse_backing b = { .index = info.index };

		if (ioctl(ctl, ABUSE_CTL_GET_BACKING, &b))
			b.text[0] = 0;
		printf("%s%-5d %-5s %14llu %5u %7u %6u %8u %4u %8d  %s%s\n",
		       ABUSE_DISK_PREFIX, info.index, state_name(info.state),
		       (unsigned long long)info.size, info.block_size,
		       info.nr_servers, info.queued, info.inflight, info.held,
		       info.server_pid, b.text,
		       info.flags & ABUSE_FLAG_READ_ONLY ? " (ro)" : "");
		memset(&info, 0, sizeof(info));
		info.index = b.index + 1;
	}
	if (errno != ENODEV)
		die("list: %s", strerror(errno));
	close(ctl);
	return 0;
}

static int cmd_index_op(const char *what, unsigned long req, const char *arg)
{
	unsigned long idx = need_uint("device index", arg, INT_MAX);
	int ctl = open_ctl();

	if (ioctl(ctl, req, idx))
		die("%s abuse%lu: %s", what, idx, strerror(errno));
	close(ctl);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s serve FILE [--index N] [--read-only] [--block-size 512|4096]\n"
		"                     [--threads T] [--keep] [--timeout S] [--io-timeout S]\n"
		"                     [--no-partscan] [--delay-us US (tests: serve slowly)]\n"
		"                     [--queue-depth D] [--hw-queues Q]\n"
		"       %s list\n"
		"       %s reset N\n"
		"       %s remove N\n", prog, prog, prog, prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct serve_opts o = {
		.index = -1, .block_size = 512, .threads = 2, .timeout = -1,
		.io_timeout = -1,
	};
	int i;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "list") && argc == 2)
		return cmd_list();
	if (!strcmp(argv[1], "reset") && argc == 3)
		return cmd_index_op("reset", ABUSE_CTL_RESET, argv[2]);
	if (!strcmp(argv[1], "remove") && argc == 3)
		return cmd_index_op("remove", ABUSE_CTL_REMOVE, argv[2]);
	if (strcmp(argv[1], "serve") || argc < 3)
		usage();

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--read-only")) {
			o.read_only = 1;
		} else if (!strcmp(a, "--keep")) {
			o.keep = 1;
		} else if (!strcmp(a, "--no-partscan")) {
			o.no_partscan = 1;
		} else if (!strcmp(a, "--index")) {
			o.index = need_uint("index", v, INT_MAX);
			i++;
		} else if (!strcmp(a, "--block-size")) {
			o.block_size = need_uint("block size", v, 4096);
			if (o.block_size != 512 && o.block_size != 4096)
				die("block size must be 512 or 4096");
			i++;
		} else if (!strcmp(a, "--threads")) {
			o.threads = need_uint("thread count", v, 256);
			if (!o.threads)
				die("need at least one thread");
			i++;
		} else if (!strcmp(a, "--timeout")) {
			o.timeout = need_uint("timeout", v, UINT32_MAX);
			i++;
		} else if (!strcmp(a, "--delay-us")) {
			o.delay_us = need_uint("delay", v, 10000000);
			i++;
		} else if (!strcmp(a, "--io-timeout")) {
			o.io_timeout = need_uint("I/O timeout", v, UINT32_MAX);
			i++;
		} else if (!strcmp(a, "--queue-depth")) {
			o.queue_depth = need_uint("queue depth", v,
						  ABUSE_MAX_QUEUE_DEPTH);
			i++;
		} else if (!strcmp(a, "--hw-queues")) {
			o.hw_queues = need_uint("hw queue count", v,
						ABUSE_MAX_HW_QUEUES);
			i++;
		} else if (a[0] == '-' || o.file) {
			usage();
		} else {
			o.file = a;
		}
	}
	if (!o.file)
		usage();
	return cmd_serve(&o);
}
