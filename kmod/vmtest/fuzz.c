// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: random sequences of every abuse ioctl, with random and boundary
 * arguments, from several threads sharing a pool of descriptors that
 * they open, attach, serve (well or badly) and close at random, while
 * child processes read and write the devices.
 *
 *   fuzz ITERATIONS [SEED]
 *
 * Works on devices 70..72 (removed at the end).  Run in the test guest
 * with short timeouts (io_timeout=1 no_server_timeout=1), so that I/O
 * nobody serves fails quickly.  A request answered with an errno the
 * interface does not document, or a hang (alarm), is a failure; the
 * kernel log is checked by the caller.  Exit status: failures.
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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abuse.h"

#define THREADS		4
#define POOL		16
#define FIRST		70
#define COUNT		3
#define CHILDREN	3

static int failures;
static long iterations;
static int pool[POOL];
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
/* An unmapped page, a read-only page: addresses a server might pass. */
static char *hole, *ro_page;

/* EBADF: a sibling thread closed the descriptor (the fuzzer's doing). */
static const unsigned long ok_errnos[] = {
	EINVAL, EFAULT, ENODEV, ENXIO, EBUSY, EEXIST, EAGAIN, ENOSPC,
	ENOTCONN, EPERM, EINTR, ENOTTY, ENOMEM, EBADF,
};

/* Calls made and calls accepted, per request kind: the fuzzer must get past the checks. */
static const char *const op_names[] = {
	"add", "remove", "reset", "status", "backing", "attach", "fetch",
	"complete", "start", "features", "other",
};
#define OPS (sizeof(op_names) / sizeof(op_names[0]))
static long calls[OPS], accepted[OPS];

static void check_errno(const char *what, int ret)
{
	size_t i;

	for (i = 0; i < OPS; i++) {
		if (strcmp(what, op_names[i]))
			continue;
		__atomic_add_fetch(&calls[i], 1, __ATOMIC_RELAXED);
		if (ret >= 0)
			__atomic_add_fetch(&accepted[i], 1, __ATOMIC_RELAXED);
	}
	if (ret >= 0)
		return;
	for (i = 0; i < sizeof(ok_errnos) / sizeof(ok_errnos[0]); i++)
		if ((unsigned long)errno == ok_errnos[i])
			return;
	__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	printf("fuzz: FAIL %s: undocumented errno %d (%s)\n", what, errno,
	       strerror(errno));
}

static uint64_t rnd(unsigned int *seed)
{
	return ((uint64_t)rand_r(seed) << 33) ^ ((uint64_t)rand_r(seed) << 11) ^
	       rand_r(seed);
}

static long some_index(unsigned int *seed)
{
	static const long edge[] = { -1, -2, 0, 1, 0x7fffffff, 0x80000000L,
				     0xffffffffL, 1L << 40, 65535, 65536 };

	if (rand_r(seed) % 8)
		return FIRST + rand_r(seed) % COUNT;
	return edge[rand_r(seed) % (sizeof(edge) / sizeof(edge[0]))];
}

static uint64_t some_u64(unsigned int *seed)
{
	static const uint64_t edge[] = { 0, 1, 511, 512, 4095, 4096, 4097,
					 1 << 20, 4U << 20, (4U << 20) + 4096,
					 0xffffffffULL, 1ULL << 60,
					 (1ULL << 60) + 512, ~0ULL,
					 ~0ULL - 511 };

	if (rand_r(seed) % 3)
		return edge[rand_r(seed) % (sizeof(edge) / sizeof(edge[0]))];
	return rnd(seed);
}

/*
 * Writable memory that nothing uses: an odd but valid address must point
 * here, never into a buffer the kernel could then write past (the stack).
 */
static char spare[64 << 10];

/* A user address: mostly good, sometimes anything but. */
static uint64_t some_addr(unsigned int *seed, void *good)
{
	switch (rand_r(seed) % 10) {
	case 0:
		return 0;
	case 1:
		return 16;
	case 2:
		return (uintptr_t)hole;
	case 3:
		return (uintptr_t)ro_page;
	case 4:
		return 0xffffffff81000000ULL;	/* kernel text */
	case 5:
		return (uintptr_t)spare + rand_r(seed) % 4096;
	default:
		return (uintptr_t)good;
	}
}

static int pick_fd(unsigned int *seed)
{
	int slot = rand_r(seed) % POOL, fd;

	pthread_mutex_lock(&pool_lock);
	fd = pool[slot];
	if (fd < 0 || rand_r(seed) % 50 == 0) {
		if (fd >= 0)
			close(fd);	/* a dying server thread */
		fd = open("/dev/abctl", O_RDWR | O_CLOEXEC |
			  (rand_r(seed) % 4 ? O_NONBLOCK : 0));
		pool[slot] = fd;
	}
	pthread_mutex_unlock(&pool_lock);
	return fd;
}

/* Buffers have room for a batch of ABUSE_MAX_BATCH and a page to spare. */
struct work {
	unsigned int seed;
	struct abuse_request *req;
	struct abuse_completion cmpl[64];
	char *data;
	char *rdata;
};

#define REQ_BYTES	((ABUSE_MAX_BATCH + 128) * sizeof(struct abuse_request))
#define DATA_BYTES	((4U << 20) + 8192)

static void do_add(struct work *w)
{
	struct abuse_dev_info i = {};
	int fd = pick_fd(&w->seed), ret;

	if (rand_r(&w->seed) % 10 < 7) {
		/* Well formed, so that devices exist to serve and break. */
		i.index = FIRST + rand_r(&w->seed) % COUNT;
		i.flags = (uint32_t)rand_r(&w->seed) % 32;
		i.size = (uint64_t)(1 + rand_r(&w->seed) % 64) << 16;
		i.queue_depth = (uint32_t)rand_r(&w->seed) % 8;
		i.nr_hw_queues = (uint32_t)rand_r(&w->seed) % 3;
	} else {
		i.index = (int)some_index(&w->seed);
		i.flags = (uint32_t)rnd(&w->seed);
		i.size = some_u64(&w->seed);
		i.block_size = (uint32_t)some_u64(&w->seed);
		i.max_req_bytes = (uint32_t)some_u64(&w->seed);
		i.queue_depth = (uint32_t)some_u64(&w->seed);
		i.nr_hw_queues = (uint32_t)some_u64(&w->seed);
	}
	/*
	 * Mostly without partition scan: a scan at START waits for servers
	 * that are, here, mostly not serving (the io timeout ends it).
	 */
	if (rand_r(&w->seed) % 8)
		i.flags |= ABUSE_FLAG_NO_PARTSCAN;
	i.timeout = rand_r(&w->seed) % 3;
	i.io_timeout = rand_r(&w->seed) % 3;
	if (rand_r(&w->seed) % 20 == 0)
		i.reserved[rand_r(&w->seed) % 2] = rnd(&w->seed);
	ret = ioctl(fd, ABUSE_CTL_ADD, rand_r(&w->seed) % 20 ?
		    (void *)&i : (void *)(uintptr_t)some_addr(&w->seed, &i));
	check_errno("add", ret);
}

static void do_index_op(struct work *w, unsigned long req, const char *what)
{
	check_errno(what, ioctl(pick_fd(&w->seed), req,
				some_index(&w->seed)));
}

static void do_status(struct work *w)
{
	struct abuse_dev_info i = { .index = (int)some_index(&w->seed) };
	unsigned long req = rand_r(&w->seed) % 2 ? ABUSE_CTL_GET_STATUS :
						   ABUSE_CTL_NEXT;

	check_errno("status", ioctl(pick_fd(&w->seed), req,
		    rand_r(&w->seed) % 10 ? (void *)&i :
		    (void *)(uintptr_t)some_addr(&w->seed, &i)));
}

static void do_backing(struct work *w)
{
	struct abuse_backing b = { .index = (int)some_index(&w->seed) };
	unsigned long req = rand_r(&w->seed) % 2 ? ABUSE_CTL_SET_BACKING :
						   ABUSE_CTL_GET_BACKING;

	if (rand_r(&w->seed) % 4)
		snprintf(b.text, sizeof(b.text), "fuzz %u", rand_r(&w->seed));
	else
		memset(b.text, 'a' + rand_r(&w->seed) % 26, sizeof(b.text));
	if (rand_r(&w->seed) % 20 == 0)
		b.reserved = 1;
	check_errno("backing", ioctl(pick_fd(&w->seed), req,
		    rand_r(&w->seed) % 10 ? (void *)&b :
		    (void *)(uintptr_t)some_addr(&w->seed, &b)));
}

/*
 * Serve: fetch a batch and complete it -- correctly, or with mutated
 * handles, lengths, results and addresses, or twice, or not at all.
 */
static void do_serve(struct work *w)
{
	int fd = pick_fd(&w->seed), n, i, nc = 0;
	struct abuse_xfer x = {};
	uint32_t room = 1 + rand_r(&w->seed) % 64;

	if (rand_r(&w->seed) % 2 == 0)
		check_errno("attach", ioctl(fd, ABUSE_ATTACH,
					    some_index(&w->seed)));
	x.req_addr = some_addr(&w->seed, w->req);
	x.req_count = rand_r(&w->seed) % 30 ? room :
					      (uint32_t)some_u64(&w->seed);
	x.data_addr = some_addr(&w->seed, w->data);
	x.data_len = rand_r(&w->seed) % 4 ? 4U << 20 :
					    (uint32_t)some_u64(&w->seed);
	/* No buffer of ours may overflow: the kernel would write past it. */
	if (x.data_addr == (uintptr_t)w->data && x.data_len > (4U << 20))
		x.data_len = 4U << 20;
	if (x.req_addr - (uintptr_t)spare < sizeof(spare) &&
	    x.req_count > (sizeof(spare) - 4096) / sizeof(struct abuse_request))
		x.req_count = (sizeof(spare) - 4096) / sizeof(struct abuse_request);
	if (x.data_addr - (uintptr_t)spare < sizeof(spare) &&
	    x.data_len > sizeof(spare) - 4096)
		x.data_len = sizeof(spare) - 4096;
	if (rand_r(&w->seed) % 40 == 0)
		x.reserved0 = 1;
	/* Never block: a blocking fetch on an idle device waits forever. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	n = ioctl(fd, ABUSE_COMMIT_AND_FETCH, &x);
	check_errno("fetch", n);
	if (n <= 0 || x.req_addr != (uintptr_t)w->req)
		return;	/* requests fetched to the spare area are left to time out */
	for (i = 0; i < n && nc < 63; i++) {
		struct abuse_request *r = &w->req[i];
		struct abuse_completion *c = &w->cmpl[nc];

		if (rand_r(&w->seed) % 10 == 0)
			continue;	/* left to the timeout */
		memset(c, 0, sizeof(*c));
		c->tag = r->tag;
		c->seq = r->seq;
		if (r->op == ABUSE_OP_READ) {
			c->len = r->len;
			c->addr = (uintptr_t)w->rdata;
		}
		switch (rand_r(&w->seed) % 12) {
		case 0:
			c->seq += rand_r(&w->seed) % 3 - 1;
			break;
		case 1:
			c->tag ^= 1u << (rand_r(&w->seed) % 32);
			break;
		case 2:
			c->len = (uint32_t)some_u64(&w->seed);
			break;
		case 3:
			c->addr = some_addr(&w->seed, w->rdata);
			break;
		case 4:
			c->result = rand_r(&w->seed) % 2 ? -EIO :
				    (int32_t)rnd(&w->seed);
			break;
		case 5:
			c->reserved = 1;
			break;
		default:
			break;
		}
		nc++;
		if (rand_r(&w->seed) % 15 == 0) {
			w->cmpl[nc] = *c;	/* a duplicate */
			nc++;
		}
	}
	memset(&x, 0, sizeof(x));
	x.cmpl_addr = rand_r(&w->seed) % 20 ? (uintptr_t)w->cmpl :
					      some_addr(&w->seed, w->cmpl);
	x.cmpl_count = nc;
	check_errno("complete", ioctl(fd, ABUSE_COMMIT_AND_FETCH, &x));
}

static void do_start(struct work *w)
{
	check_errno("start", ioctl(pick_fd(&w->seed), ABUSE_CTL_START,
				   some_index(&w->seed)));
}

static void do_other(struct work *w)
{
	unsigned int nr = rand_r(&w->seed) % 256;
	unsigned long req = _IOC(rand_r(&w->seed) % 4, ABUSE_IOC_MAGIC, nr,
				 rand_r(&w->seed) % 128);
	uint64_t feat;

	if (rand_r(&w->seed) % 2)
		check_errno("features", ioctl(pick_fd(&w->seed),
					      ABUSE_GET_FEATURES,
					      rand_r(&w->seed) % 5 ? &feat :
					      (void *)hole));
	else
		check_errno("other", ioctl(pick_fd(&w->seed), req,
					   some_addr(&w->seed, w->data)));
}

static void *fuzz_thread(void *arg)
{
	struct work *w = calloc(1, sizeof(*w));
	long i;

	w->seed = (uintptr_t)arg;
	w->req = malloc(REQ_BYTES);
	w->data = malloc(DATA_BYTES);
	w->rdata = malloc(DATA_BYTES);
	memset(w->rdata, 0x3c, DATA_BYTES);
	for (i = 0; i < iterations; i++) {
		switch (rand_r(&w->seed) % 16) {
		case 0:
		case 1:
			do_add(w);
			break;
		case 2:
			/* Half as often as the others: devices live a while. */
			if (rand_r(&w->seed) % 2)
				do_index_op(w, ABUSE_CTL_REMOVE, "remove");
			break;
		case 3:
			do_index_op(w, ABUSE_CTL_RESET, "reset");
			break;
		case 4:
			do_status(w);
			break;
		case 5:
			do_backing(w);
			break;
		case 6:
			do_start(w);
			break;
		case 7:
			do_other(w);
			break;
		default:
			do_serve(w);
			break;
		}
	}
	free(w->req);
	free(w->data);
	free(w->rdata);
	free(w);
	return NULL;
}

/*
 * The fuzzer may give a device no time limit at all (both timeouts 0), and
 * leave a request unanswered: then only a reset ends the wait.  Resetting
 * every device every two seconds bounds every stall (START's partition
 * scan, a child's read) without hiding a hang of the module itself, which
 * a reset would not end.
 */
static volatile int janitor_stop;

static void *janitor(void *arg)
{
	int fd = open("/dev/abctl", O_RDWR | O_CLOEXEC), i;

	(void)arg;
	while (!janitor_stop) {
		sleep(2);
		for (i = FIRST; i < FIRST + COUNT; i++)
			ioctl(fd, ABUSE_CTL_RESET, i);
	}
	close(fd);
	return NULL;
}

/* A child reading and writing whatever device exists; errors are fine. */
static void io_child(unsigned int seed)
{
	void *buf;

	if (posix_memalign(&buf, 4096, 1 << 20))
		_exit(1);
	memset(buf, 0x77, 1 << 20);
	while (getppid() > 1) {
		char path[32];
		int fd, len = 512 << (rand_r(&seed) % 12);

		snprintf(path, sizeof(path), "/dev/abuse%d",
			 FIRST + rand_r(&seed) % COUNT);
		fd = open(path, O_RDWR | (rand_r(&seed) % 2 ? O_DIRECT : 0));
		if (fd < 0) {
			usleep(10000);
			continue;
		}
		if (len > (1 << 20))
			len = 1 << 20;
		if (rand_r(&seed) % 2)
			(void)!pread(fd, buf, len, (rand_r(&seed) % 64) << 12);
		else
			(void)!pwrite(fd, buf, len, (rand_r(&seed) % 64) << 12);
		if (rand_r(&seed) % 8 == 0)
			fdatasync(fd);
		close(fd);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	unsigned int seed = argc > 2 ? strtoul(argv[2], NULL, 0) : 1;
	pthread_t t[THREADS], jt;
	pid_t kids[CHILDREN];
	int i, fd, left, tries;

	if (argc < 2) {
		fprintf(stderr, "usage: fuzz ITERATIONS [SEED]\n");
		return 100;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	iterations = strtol(argv[1], NULL, 0);
	hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	for (i = 0; i < POOL; i++)
		pool[i] = -1;
	for (i = 0; i < CHILDREN; i++) {
		kids[i] = fork();
		if (!kids[i]) {
			close_range(3, ~0U, 0);
			io_child(seed * 7919 + i);
		}
	}
	/* A hang anywhere is a failure: the alarm ends the run with a signal. */
	alarm(900);
	pthread_create(&jt, NULL, janitor, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, fuzz_thread,
			       (void *)(uintptr_t)(seed * 104729 + i));
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < POOL; i++)
		if (pool[i] >= 0)
			close(pool[i]);
	/* The children die once their last request ends (the janitor). */
	for (i = 0; i < CHILDREN; i++)
		kill(kids[i], SIGKILL);
	for (left = CHILDREN, tries = 0; left && tries < 600; tries++) {
		for (i = 0; i < CHILDREN; i++)
			if (kids[i] && waitpid(kids[i], NULL, WNOHANG) == kids[i]) {
				kids[i] = 0;
				left--;
			}
		usleep(100000);
	}
	if (left) {
		failures++;
		printf("fuzz: FAIL %d child processes did not end within 60 s of SIGKILL\n",
		       left);
	}
	janitor_stop = 1;
	pthread_join(jt, NULL);
	fd = open("/dev/abctl", O_RDWR);
	for (i = FIRST; i < FIRST + COUNT; i++) {
		if (ioctl(fd, ABUSE_CTL_REMOVE, i) && errno != ENODEV) {
			failures++;
			printf("fuzz: FAIL remove abuse%d at the end: %s\n", i,
			       strerror(errno));
		}
	}
	close(fd);
	printf("fuzz: %ld iterations x %d threads, seed %u, %d failures\n",
	       iterations, THREADS, seed, failures);
	for (i = 0; i < (int)OPS; i++)
		printf("fuzz:   %-8s %6ld calls, %6ld accepted\n", op_names[i],
		       calls[i], accepted[i]);
	return failures;
}
