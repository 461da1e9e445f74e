// SPDX-License-Identifier: GPL-2.0
/*
 * abuse: A Block device in User SpacE.
 *
 * A blk-mq block device whose requests are served by user space.  A
 * server opens /dev/abctl, attaches to a device and loops on
 * ABUSE_COMMIT_AND_FETCH, which completes a batch of requests and fetches
 * the next one.  The protocol is described in abuse.h.
 *
 * Request life cycle (every transition under abuse_device.lock):
 *
 *   queue_rq -> QUEUED (dev->pending)
 *            -> FETCHING (owner->inflight, payload being copied out)
 *            -> INFLIGHT (owner->inflight, the server has it)
 *            -> COMPLETING (owner->inflight, read data being copied in)
 *            -> ENDING (on no list: one thread ends it)
 *
 *   INFLIGHT -> HELD (dev->held) when its descriptor is released while
 *   the same process keeps other descriptors attached; HELD -> QUEUED (or
 *   ENDING, by policy) once the last of them is released.
 *
 * Only the thread that moves a request to ENDING ends it, so a request
 * is never ended twice.  A request in FETCHING or COMPLETING belongs to
 * the thread copying its data: reset, removal and the I/O timeout only
 * mark it (abort) and that thread ends it with EIO.  Every fetch gives a
 * request a new 64-bit sequence number from the device, so a handle is
 * never valid twice; the slot (the driver tag) only locates the request.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/init.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/version.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "abuse.h"

/* ---- compatibility: 5.15 (Ubuntu 22.04) to 7.3 ---- */

/*
 * Renamed in 5.17 (and in 5.15.132 by a stable backport, still a macro
 * there); 5.17 and later define it in an enum, so test the old name.
 */
#if defined(GENHD_FL_NO_PART_SCAN) && !defined(GENHD_FL_NO_PART)
#define GENHD_FL_NO_PART GENHD_FL_NO_PART_SCAN
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 19, 0)
static inline unsigned int abuse_disk_openers(struct gendisk *disk)
{
	return disk->part0->bd_openers;
}
#else
static inline unsigned int abuse_disk_openers(struct gendisk *disk)
{
	return disk_openers(disk);
}
#endif

/* 6.2, and stable backports (6.1.y, 5.15.y) define them as macros. */
#ifndef ITER_SOURCE
#define ITER_SOURCE	WRITE
#define ITER_DEST	READ
#endif

/*
 * A disk never added, or one del_gendisk() took away.  Before 6.0 the
 * queue is torn down here (blk_cleanup_queue() exits it, which uses the
 * tag set), so call this before blk_mq_free_tag_set().
 */
static void abuse_put_disk(struct gendisk *disk)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 0, 0)
	blk_cleanup_disk(disk);
#else
	put_disk(disk);
#endif
}

/* ---- module parameters ---- */

static unsigned int max_part = 15;
module_param(max_part, uint, 0444);
MODULE_PARM_DESC(max_part, "Partitions per device (0..255, default 15)");

static unsigned int no_server_timeout = 30;
module_param(no_server_timeout, uint, 0644);
MODULE_PARM_DESC(no_server_timeout,
		 "Seconds a device without server keeps its requests before failing them (0 = forever, default 30); read when a device is added");

static unsigned int io_timeout = 30;
module_param(io_timeout, uint, 0644);
MODULE_PARM_DESC(io_timeout,
		 "Seconds a request may wait for its server before failing with EIO (0 = forever, default 30); read when a device is added");

#define ABUSE_DEF_BLOCK_SIZE	512
#define ABUSE_DEF_REQ_BYTES	(1U << 20)
#define ABUSE_DEF_QUEUE_DEPTH	128
#define ABUSE_MAX_SIZE		(1ULL << 60)
/* Longest timeout accepted, seconds: a year. */
#define ABUSE_MAX_TIMEOUT	(366U * 24 * 3600)
/* Longest time between two looks at a request's deadline, seconds. */
#define ABUSE_MAX_TIMER_PERIOD	30

static int abuse_major;
static unsigned int abuse_minors;	/* minors per device */

/*
 * abuse_ctl_mutex protects abuse_idr; a lookup takes a device reference
 * under it.  abuse_device.lifecycle serializes START and REMOVE of one
 * device, which may wait for I/O and so never run under abuse_ctl_mutex.
 * Lock order: lifecycle, then disk->open_mutex, then abuse_ctl_mutex,
 * then abuse_device.lock.
 */
static DEFINE_MUTEX(abuse_ctl_mutex);
static DEFINE_IDR(abuse_idr);

enum abuse_cmd_state {
	ABUSE_CMD_IDLE,		/* not ours */
	ABUSE_CMD_QUEUED,	/* on dev->pending */
	ABUSE_CMD_FETCHING,	/* on owner->inflight, payload copy running */
	ABUSE_CMD_INFLIGHT,	/* on owner->inflight, the server has it */
	ABUSE_CMD_COMPLETING,	/* on owner->inflight, read copy running */
	ABUSE_CMD_HELD,		/* on dev->held, its server is going away */
	ABUSE_CMD_ENDING,	/* on no list, one thread ends it */
};

struct abuse_server;

/* Per-request driver data (blk_mq_rq_to_pdu). */
struct abuse_cmd {
	struct list_head node;		/* pending, owner->inflight or held */
	struct abuse_server *owner;	/* FETCHING, INFLIGHT, COMPLETING */
	struct pid *held_for;		/* HELD: the server process */
	u64 seq;			/* handle of the current fetch */
	unsigned long deadline;		/* jiffies: the I/O timeout */
	u32 slot;			/* index in dev->slots, the tag */
	u8 state;			/* enum abuse_cmd_state */
	bool abort;			/* FETCHING/COMPLETING: end with EIO */
};

struct abuse_device {
	int index;
	char name[DISK_NAME_LEN];
	u32 flags;			/* ABUSE_FLAG_* as added */
	u64 size;			/* bytes */
	u32 block_size;			/* bytes */
	u32 max_req_bytes;		/* bytes */
	u32 queue_depth;		/* per hw queue */
	u32 nr_hw_queues;
	u32 nr_slots;			/* nr_hw_queues * queue_depth */

	struct gendisk *disk;		/* from ADD until REMOVE */
	struct blk_mq_tag_set tag_set;
	struct kref kref;		/* idr, lookups, attached servers */
	struct mutex lifecycle;		/* START and REMOVE */
	bool added;			/* under lifecycle: disk was added */
	bool gone;			/* under lifecycle: removed */
	bool removing;			/* under disk->open_mutex */
	struct delayed_work orphan_work; /* fails requests without server */
	wait_queue_head_t wq;		/* servers (exclusive) and pollers */
	atomic64_t errors;		/* rejected completions */
	atomic64_t timeouts;		/* requests failed by io_timeout */

	/*
	 * lock protects everything below, and node, owner, held_for, seq,
	 * deadline, state and abort of every abuse_cmd of this device.
	 * Taken from queue_rq and the timeout handler: nothing may sleep
	 * under it.
	 */
	spinlock_t lock;
	u32 state;			/* ABUSE_STATE_* */
	bool recovery_fail;		/* ABUSE_FLAG_RECOVERY_FAIL */
	struct list_head pending;	/* QUEUED requests, oldest first */
	struct list_head held;		/* HELD requests */
	struct list_head servers;	/* attached abuse_server */
	struct request **slots;		/* requests owned by us, by tag */
	u64 seq;			/* last handle given */
	unsigned int nr_servers;
	unsigned int nr_queued;
	unsigned int nr_inflight;	/* FETCHING..COMPLETING and HELD */
	unsigned int nr_held;
	unsigned int timeout;		/* no-server timeout, s, 0 = never */
	unsigned int io_timeout;	/* s, 0 = never */
	unsigned long orphan_since;	/* jiffies: last server went away */
	pid_t server_pid;		/* last attached server */
	char backing[ABUSE_BACKING_LEN];
};

/* One per open /dev/abctl descriptor. */
struct abuse_server {
	struct abuse_device *dev;	/* set once by ATTACH */
	struct pid *tgid;		/* process that attached */
	struct list_head node;		/* on dev->servers, under dev->lock */
	struct list_head inflight;	/* our requests, under dev->lock */
	/*
	 * An epoll set up before ATTACH waits on early_wq; once attached,
	 * relay forwards the device's wake-ups to it.
	 */
	spinlock_t poll_lock;		/* polled_early, relaying */
	bool polled_early;
	bool relaying;
	wait_queue_head_t early_wq;
	wait_queue_entry_t relay;
};

static void abuse_dev_free(struct kref *kref)
{
	struct abuse_device *dev = container_of(kref, struct abuse_device,
						kref);

	kvfree(dev->slots);
	kfree(dev);
}

static void abuse_put(struct abuse_device *dev)
{
	kref_put(&dev->kref, abuse_dev_free);
}

/* The device numbered @index, with a reference; NULL if there is none. */
static struct abuse_device *abuse_get(unsigned long index)
{
	struct abuse_device *dev;

	if (index > INT_MAX)
		return NULL;
	mutex_lock(&abuse_ctl_mutex);
	dev = idr_find(&abuse_idr, index);
	if (dev)
		kref_get(&dev->kref);
	mutex_unlock(&abuse_ctl_mutex);
	return dev;
}

static unsigned long abuse_secs(unsigned int secs)
{
	return (unsigned long)secs * HZ;
}

/* How often the block layer shows us a request that is still running. */
static unsigned int abuse_timer_period(unsigned int io_timeout_s)
{
	unsigned int secs = io_timeout_s ? io_timeout_s / 4 : 0;

	return clamp(secs, 1U, (unsigned int)ABUSE_MAX_TIMER_PERIOD) * HZ;
}

/* ---- request ownership ---- */

/* Take @cmd off every list and make the caller its only owner. */
static void abuse_take_locked(struct abuse_device *dev, struct abuse_cmd *cmd)
{
	lockdep_assert_held(&dev->lock);
	list_del_init(&cmd->node);
	dev->slots[cmd->slot] = NULL;
	if (cmd->state == ABUSE_CMD_QUEUED) {
		dev->nr_queued--;
	} else {
		if (cmd->state == ABUSE_CMD_HELD)
			dev->nr_held--;
		dev->nr_inflight--;
	}
	cmd->state = ABUSE_CMD_ENDING;
	cmd->owner = NULL;
	cmd->held_for = NULL;
}

static void abuse_end_list(struct list_head *list, blk_status_t status)
{
	struct abuse_cmd *cmd, *tmp;

	list_for_each_entry_safe(cmd, tmp, list, node) {
		list_del_init(&cmd->node);
		blk_mq_end_request(blk_mq_rq_from_pdu(cmd), status);
	}
}

/* Put @cmd (INFLIGHT or HELD) back at the head of the queue. */
static void abuse_requeue_locked(struct abuse_device *dev,
				 struct abuse_cmd *cmd)
{
	lockdep_assert_held(&dev->lock);
	if (cmd->state == ABUSE_CMD_HELD)
		dev->nr_held--;
	dev->nr_inflight--;
	dev->nr_queued++;
	cmd->state = ABUSE_CMD_QUEUED;
	cmd->owner = NULL;
	cmd->held_for = NULL;
	cmd->deadline = jiffies + abuse_secs(dev->io_timeout);
	list_move(&cmd->node, &dev->pending);
}

/*
 * Move every queued, held and in-flight request to @out.  Requests whose
 * data is being copied are marked for their copier to end.
 */
static void abuse_collect_all_locked(struct abuse_device *dev,
				     struct list_head *out)
{
	struct abuse_server *srv;
	struct abuse_cmd *cmd, *tmp;

	lockdep_assert_held(&dev->lock);
	list_for_each_entry_safe(cmd, tmp, &dev->pending, node) {
		abuse_take_locked(dev, cmd);
		list_add_tail(&cmd->node, out);
	}
	list_for_each_entry_safe(cmd, tmp, &dev->held, node) {
		abuse_take_locked(dev, cmd);
		list_add_tail(&cmd->node, out);
	}
	list_for_each_entry(srv, &dev->servers, node) {
		list_for_each_entry_safe(cmd, tmp, &srv->inflight, node) {
			if (cmd->state != ABUSE_CMD_INFLIGHT) {
				cmd->abort = true;
				continue;
			}
			abuse_take_locked(dev, cmd);
			list_add_tail(&cmd->node, out);
		}
	}
}

/* ---- the no-server timeout ---- */

static bool abuse_orphan_expired_locked(struct abuse_device *dev)
{
	return !dev->nr_servers && dev->timeout &&
	       time_after_eq(jiffies, dev->orphan_since +
			     abuse_secs(dev->timeout));
}

/* Make the orphan work run when the no-server timeout ends. */
static void abuse_arm_orphan_locked(struct abuse_device *dev, bool moved)
{
	unsigned long deadline, delay = 0;

	if (dev->nr_servers || !dev->timeout ||
	    dev->state == ABUSE_STATE_DEAD || list_empty(&dev->pending))
		return;
	deadline = dev->orphan_since + abuse_secs(dev->timeout);
	if (time_after(deadline, jiffies))
		delay = deadline - jiffies;
	if (moved)
		mod_delayed_work(system_wq, &dev->orphan_work, delay);
	else if (!delayed_work_pending(&dev->orphan_work))
		schedule_delayed_work(&dev->orphan_work, delay);
}

static void abuse_orphan_workfn(struct work_struct *work)
{
	struct abuse_device *dev = container_of(to_delayed_work(work),
						struct abuse_device,
						orphan_work);
	struct abuse_cmd *cmd, *tmp;
	LIST_HEAD(failed);

	spin_lock_irq(&dev->lock);
	if (abuse_orphan_expired_locked(dev) &&
	    dev->state != ABUSE_STATE_DEAD) {
		list_for_each_entry_safe(cmd, tmp, &dev->pending, node) {
			abuse_take_locked(dev, cmd);
			list_add_tail(&cmd->node, &failed);
		}
	} else {
		abuse_arm_orphan_locked(dev, false);
	}
	spin_unlock_irq(&dev->lock);
	if (!list_empty(&failed))
		pr_warn("%s: no server for %u s, failing requests\n",
			dev->name, dev->timeout);
	abuse_end_list(&failed, BLK_STS_IOERR);
}

/* ---- blk-mq ---- */

static blk_status_t abuse_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct abuse_device *dev = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct abuse_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned long flags;
	u32 slot;

	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_FLUSH:
		break;
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		/* The block layer refuses these already; be sure. */
		if (dev->flags & ABUSE_FLAG_READ_ONLY)
			return BLK_STS_IOERR;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	if (rq->tag < 0 || rq->tag >= dev->queue_depth)
		return BLK_STS_IOERR;
	slot = hctx->queue_num * dev->queue_depth + rq->tag;

	blk_mq_start_request(rq);
	spin_lock_irqsave(&dev->lock, flags);
	if (dev->state == ABUSE_STATE_DEAD ||
	    abuse_orphan_expired_locked(dev)) {
		spin_unlock_irqrestore(&dev->lock, flags);
		return BLK_STS_IOERR;
	}
	if (unlikely(dev->slots[slot])) {
		/* Driver tags are unique among dispatched requests. */
		spin_unlock_irqrestore(&dev->lock, flags);
		pr_err_ratelimited("%s: tag %u dispatched twice\n", dev->name,
				   slot);
		return BLK_STS_IOERR;
	}
	dev->slots[slot] = rq;
	cmd->slot = slot;
	cmd->state = ABUSE_CMD_QUEUED;
	cmd->abort = false;
	cmd->owner = NULL;
	cmd->held_for = NULL;
	cmd->deadline = jiffies + abuse_secs(dev->io_timeout);
	list_add_tail(&cmd->node, &dev->pending);
	dev->nr_queued++;
	abuse_arm_orphan_locked(dev, false);
	spin_unlock_irqrestore(&dev->lock, flags);

	wake_up(&dev->wq);
	return BLK_STS_OK;
}

/*
 * The block layer shows us a request every abuse_timer_period(): fail it
 * once its own deadline has passed.  Without a server only the no-server
 * timeout applies.
 */
static enum blk_eh_timer_return abuse_timeout_rq(struct request *rq)
{
	struct abuse_device *dev = rq->q->queuedata;
	struct abuse_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned long flags;
	bool expired, fail = false;

	spin_lock_irqsave(&dev->lock, flags);
	expired = dev->io_timeout && time_after_eq(jiffies, cmd->deadline);
	switch (cmd->state) {
	case ABUSE_CMD_QUEUED:
		if (!dev->nr_servers)
			break;
		fallthrough;
	case ABUSE_CMD_INFLIGHT:
	case ABUSE_CMD_HELD:
		if (!expired)
			break;
		abuse_take_locked(dev, cmd);
		fail = true;
		break;
	case ABUSE_CMD_FETCHING:
	case ABUSE_CMD_COMPLETING:
		if (expired && !cmd->abort) {
			cmd->abort = true;	/* its copier ends it */
			atomic64_inc(&dev->timeouts);
		}
		break;
	default:
		break;
	}
	spin_unlock_irqrestore(&dev->lock, flags);
	if (!fail)
		return BLK_EH_RESET_TIMER;
	atomic64_inc(&dev->timeouts);
	pr_warn_ratelimited("%s: request at sector %llu not served in %u s, failing it\n",
			    dev->name, (unsigned long long)blk_rq_pos(rq),
			    dev->io_timeout);
	blk_mq_end_request(rq, BLK_STS_IOERR);
	return BLK_EH_DONE;
}

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 0, 0)
static enum blk_eh_timer_return abuse_timeout(struct request *rq,
					      bool reserved)
{
	return abuse_timeout_rq(rq);
}
#else
static enum blk_eh_timer_return abuse_timeout(struct request *rq)
{
	return abuse_timeout_rq(rq);
}
#endif

/* 7.2 made numa_node signed (NUMA_NO_NODE is -1). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 2, 0)
typedef int abuse_numa_node_t;
#else
typedef unsigned int abuse_numa_node_t;
#endif

static int abuse_init_request(struct blk_mq_tag_set *set, struct request *rq,
			      unsigned int hctx_idx,
			      abuse_numa_node_t numa_node)
{
	struct abuse_cmd *cmd = blk_mq_rq_to_pdu(rq);

	INIT_LIST_HEAD(&cmd->node);
	cmd->state = ABUSE_CMD_IDLE;
	return 0;
}

static const struct blk_mq_ops abuse_mq_ops = {
	.queue_rq	= abuse_queue_rq,
	.timeout	= abuse_timeout,
	.init_request	= abuse_init_request,
};

/* Refuse new openers once removal has started (open_mutex is held). */
static int abuse_open_disk(struct gendisk *disk)
{
	struct abuse_device *dev = disk->private_data;

	return dev->removing ? -ENXIO : 0;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
static int abuse_bdev_open(struct gendisk *disk, blk_mode_t mode)
{
	return abuse_open_disk(disk);
}
#else
static int abuse_bdev_open(struct block_device *bdev, fmode_t mode)
{
	return abuse_open_disk(bdev->bd_disk);
}
#endif

static const struct block_device_operations abuse_bdev_ops = {
	.owner	= THIS_MODULE,
	.open	= abuse_bdev_open,
};

/* ---- sysfs: /sys/block/abuseN/abuse/ ---- */

static struct abuse_device *abuse_from_dev(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

static ssize_t backing_show(struct device *d, struct device_attribute *attr,
			    char *buf)
{
	struct abuse_device *dev = abuse_from_dev(d);
	ssize_t ret;

	spin_lock_irq(&dev->lock);
	ret = sysfs_emit(buf, "%s\n", dev->backing);
	spin_unlock_irq(&dev->lock);
	return ret;
}
static DEVICE_ATTR_RO(backing);

#define ABUSE_SHOW(name, fmt, field)					\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct abuse_device *dev = abuse_from_dev(d);			\
									\
	return sysfs_emit(buf, fmt "\n", field);			\
}

ABUSE_SHOW(server_pid, "%d", READ_ONCE(dev->server_pid))
static DEVICE_ATTR_RO(server_pid);
ABUSE_SHOW(queued, "%u", READ_ONCE(dev->nr_queued))
static DEVICE_ATTR_RO(queued);
ABUSE_SHOW(inflight, "%u", READ_ONCE(dev->nr_inflight))
static DEVICE_ATTR_RO(inflight);
ABUSE_SHOW(held, "%u", READ_ONCE(dev->nr_held))
static DEVICE_ATTR_RO(held);
ABUSE_SHOW(servers, "%u", READ_ONCE(dev->nr_servers))
static DEVICE_ATTR_RO(servers);
ABUSE_SHOW(errors, "%lld", (long long)atomic64_read(&dev->errors))
static DEVICE_ATTR_RO(errors);
ABUSE_SHOW(timeouts, "%lld", (long long)atomic64_read(&dev->timeouts))
static DEVICE_ATTR_RO(timeouts);
ABUSE_SHOW(timeout, "%u", READ_ONCE(dev->timeout))
ABUSE_SHOW(io_timeout, "%u", READ_ONCE(dev->io_timeout))

static int abuse_parse_timeout(const char *buf, unsigned int *val)
{
	int ret = kstrtouint(buf, 0, val);

	if (ret)
		return ret;
	return *val > ABUSE_MAX_TIMEOUT ? -EINVAL : 0;
}

static ssize_t timeout_store(struct device *d, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct abuse_device *dev = abuse_from_dev(d);
	unsigned int val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = abuse_parse_timeout(buf, &val);
	if (ret)
		return ret;
	spin_lock_irq(&dev->lock);
	dev->timeout = val;
	abuse_arm_orphan_locked(dev, true);
	spin_unlock_irq(&dev->lock);
	return count;
}
static DEVICE_ATTR_RW(timeout);

static ssize_t io_timeout_store(struct device *d,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct abuse_device *dev = abuse_from_dev(d);
	unsigned int val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = abuse_parse_timeout(buf, &val);
	if (ret)
		return ret;
	/* Requests already running keep the deadline they were given. */
	WRITE_ONCE(dev->io_timeout, val);
	blk_queue_rq_timeout(dev_to_disk(d)->queue, abuse_timer_period(val));
	return count;
}
static DEVICE_ATTR_RW(io_timeout);

static ssize_t recovery_show(struct device *d, struct device_attribute *attr,
			     char *buf)
{
	struct abuse_device *dev = abuse_from_dev(d);

	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(dev->recovery_fail) ? "fail" : "requeue");
}

static ssize_t recovery_store(struct device *d, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct abuse_device *dev = abuse_from_dev(d);

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	spin_lock_irq(&dev->lock);
	if (sysfs_streq(buf, "fail"))
		dev->recovery_fail = true;
	else if (sysfs_streq(buf, "requeue"))
		dev->recovery_fail = false;
	else
		count = -EINVAL;
	spin_unlock_irq(&dev->lock);
	return count;
}
static DEVICE_ATTR_RW(recovery);

static struct attribute *abuse_attrs[] = {
	&dev_attr_backing.attr,
	&dev_attr_server_pid.attr,
	&dev_attr_queued.attr,
	&dev_attr_inflight.attr,
	&dev_attr_held.attr,
	&dev_attr_servers.attr,
	&dev_attr_errors.attr,
	&dev_attr_timeouts.attr,
	&dev_attr_timeout.attr,
	&dev_attr_io_timeout.attr,
	&dev_attr_recovery.attr,
	NULL,
};

static const struct attribute_group abuse_attr_group = {
	.name	= "abuse",
	.attrs	= abuse_attrs,
};

static const struct attribute_group *abuse_attr_groups[] = {
	&abuse_attr_group,
	NULL,
};

/* ---- device creation ---- */

static int abuse_check_info(struct abuse_dev_info *info)
{
	unsigned int max_index = (1U << MINORBITS) / abuse_minors;

	if (info->flags & ~ABUSE_FLAGS_ALL || info->reserved[0] ||
	    info->reserved[1])
		return -EINVAL;
	if (info->index < -1 || (info->index >= 0 && info->index >= max_index))
		return -EINVAL;
	if (!info->block_size)
		info->block_size = ABUSE_DEF_BLOCK_SIZE;
	if (info->block_size != 512 && info->block_size != 4096)
		return -EINVAL;
	if (!info->size || info->size > ABUSE_MAX_SIZE ||
	    info->size % info->block_size)
		return -EINVAL;
	if (!info->max_req_bytes)
		info->max_req_bytes = ABUSE_DEF_REQ_BYTES;
	if (info->max_req_bytes < ABUSE_MIN_REQ_BYTES ||
	    info->max_req_bytes > ABUSE_MAX_REQ_BYTES ||
	    info->max_req_bytes % ABUSE_MIN_REQ_BYTES)
		return -EINVAL;
	if (!info->queue_depth)
		info->queue_depth = ABUSE_DEF_QUEUE_DEPTH;
	if (info->queue_depth > ABUSE_MAX_QUEUE_DEPTH)
		return -EINVAL;
	if (!info->nr_hw_queues)
		info->nr_hw_queues = 1;
	if (info->nr_hw_queues > ABUSE_MAX_HW_QUEUES)
		return -EINVAL;
	info->nr_hw_queues = min_t(u32, info->nr_hw_queues, nr_cpu_ids);
	if (!(info->flags & ABUSE_FLAG_SET_TIMEOUT))
		info->timeout = min(READ_ONCE(no_server_timeout),
				    ABUSE_MAX_TIMEOUT);
	if (!(info->flags & ABUSE_FLAG_SET_IO_TIMEOUT))
		info->io_timeout = min(READ_ONCE(io_timeout),
				       ABUSE_MAX_TIMEOUT);
	if (info->timeout > ABUSE_MAX_TIMEOUT ||
	    info->io_timeout > ABUSE_MAX_TIMEOUT)
		return -EINVAL;
	return 0;
}

static void abuse_fill_info(struct abuse_device *dev,
			    struct abuse_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	info->index = dev->index;
	info->size = dev->size;
	info->block_size = dev->block_size;
	info->max_req_bytes = dev->max_req_bytes;
	info->queue_depth = dev->queue_depth;
	info->nr_hw_queues = dev->nr_hw_queues;
	info->errors = atomic64_read(&dev->errors);
	info->timeouts = atomic64_read(&dev->timeouts);
	spin_lock_irq(&dev->lock);
	info->flags = dev->flags & ~ABUSE_FLAG_RECOVERY_FAIL;
	if (dev->recovery_fail)
		info->flags |= ABUSE_FLAG_RECOVERY_FAIL;
	info->timeout = dev->timeout;
	info->io_timeout = dev->io_timeout;
	info->state = dev->state;
	info->nr_servers = dev->nr_servers;
	info->queued = dev->nr_queued;
	info->inflight = dev->nr_inflight;
	info->held = dev->nr_held;
	info->server_pid = dev->server_pid;
	spin_unlock_irq(&dev->lock);
}

static struct gendisk *abuse_alloc_disk(struct abuse_device *dev)
{
	u32 bs = dev->block_size;
	struct gendisk *disk;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	struct queue_limits lim = {
		.logical_block_size	= bs,
		.physical_block_size	= bs,
		.io_min			= bs,
		.max_hw_sectors		= dev->max_req_bytes >> SECTOR_SHIFT,
		.max_segments		= USHRT_MAX,
		.discard_granularity	= bs,
		.max_hw_discard_sectors	= UINT_MAX >> SECTOR_SHIFT,
		.max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
		/* Not BLK_FEAT_ROTATIONAL: the device is non-rotational. */
		.features		= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA,
#endif
	};

	disk = blk_mq_alloc_disk(&dev->tag_set, &lim, dev);
	if (IS_ERR(disk))
		return disk;
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	/* 6.9 and 6.10 start every queue as rotational. */
	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
#endif
#else
	struct request_queue *q;

	disk = blk_mq_alloc_disk(&dev->tag_set, dev);
	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, bs);
	blk_queue_physical_block_size(q, bs);
	blk_queue_io_min(q, bs);
	blk_queue_max_hw_sectors(q, dev->max_req_bytes >> SECTOR_SHIFT);
	blk_queue_max_segments(q, USHRT_MAX);
	q->limits.discard_granularity = bs;
	blk_queue_max_discard_sectors(q, UINT_MAX >> SECTOR_SHIFT);
	blk_queue_max_write_zeroes_sectors(q, UINT_MAX >> SECTOR_SHIFT);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 19, 0)
	blk_queue_flag_set(QUEUE_FLAG_DISCARD, q);
#endif
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	blk_queue_write_cache(disk->queue, true, true);
#endif
	return disk;
}

/*
 * The tag set and the disk, not yet added: /dev/abuseN appears at START,
 * once a server can answer the partition scan.
 */
static int abuse_create_disk(struct abuse_device *dev)
{
	struct blk_mq_tag_set *set = &dev->tag_set;
	struct gendisk *disk;
	int ret;

	set->ops = &abuse_mq_ops;
	set->nr_hw_queues = dev->nr_hw_queues;
	set->queue_depth = dev->queue_depth;
	set->numa_node = NUMA_NO_NODE;
	set->cmd_size = sizeof(struct abuse_cmd);
	set->timeout = abuse_timer_period(dev->io_timeout);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
	set->flags = BLK_MQ_F_SHOULD_MERGE;
#endif
	set->driver_data = dev;
	ret = blk_mq_alloc_tag_set(set);
	if (ret)
		return ret;
	/* The tag set may have lowered either number: never raised. */
	dev->nr_hw_queues = set->nr_hw_queues;
	dev->queue_depth = set->queue_depth;
	dev->nr_slots = dev->nr_hw_queues * dev->queue_depth;
	dev->slots = kvcalloc(dev->nr_slots, sizeof(*dev->slots), GFP_KERNEL);
	if (!dev->slots) {
		ret = -ENOMEM;
		goto out_tags;
	}

	disk = abuse_alloc_disk(dev);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto out_tags;
	}
	disk->major = abuse_major;
	disk->first_minor = dev->index * abuse_minors;
	disk->minors = abuse_minors;
	disk->fops = &abuse_bdev_ops;
	disk->private_data = dev;
	if (abuse_minors == 1 || dev->flags & ABUSE_FLAG_NO_PARTSCAN)
		disk->flags |= GENHD_FL_NO_PART;
	strscpy(disk->disk_name, dev->name, DISK_NAME_LEN);
	set_capacity(disk, dev->size >> SECTOR_SHIFT);
	if (dev->flags & ABUSE_FLAG_READ_ONLY)
		set_disk_ro(disk, true);
	dev->disk = disk;
	return 0;

out_tags:
	blk_mq_free_tag_set(set);
	return ret;
}

static int abuse_add(void __user *argp)
{
	struct abuse_dev_info info;
	struct abuse_device *dev;
	int ret;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	ret = abuse_check_info(&info);
	if (ret)
		return ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->flags = info.flags;
	dev->size = info.size;
	dev->block_size = info.block_size;
	dev->max_req_bytes = info.max_req_bytes;
	dev->queue_depth = info.queue_depth;
	dev->nr_hw_queues = info.nr_hw_queues;
	dev->timeout = info.timeout;
	dev->io_timeout = info.io_timeout;
	dev->recovery_fail = info.flags & ABUSE_FLAG_RECOVERY_FAIL;
	dev->orphan_since = jiffies;
	dev->state = ABUSE_STATE_ADDED;
	kref_init(&dev->kref);
	mutex_init(&dev->lifecycle);
	spin_lock_init(&dev->lock);
	INIT_LIST_HEAD(&dev->pending);
	INIT_LIST_HEAD(&dev->held);
	INIT_LIST_HEAD(&dev->servers);
	init_waitqueue_head(&dev->wq);
	INIT_DELAYED_WORK(&dev->orphan_work, abuse_orphan_workfn);

	mutex_lock(&abuse_ctl_mutex);
	if (info.index < 0) {
		ret = idr_alloc(&abuse_idr, dev, 0,
				(1U << MINORBITS) / abuse_minors, GFP_KERNEL);
	} else {
		ret = idr_alloc(&abuse_idr, dev, info.index, info.index + 1,
				GFP_KERNEL);
		if (ret == -ENOSPC)
			ret = -EEXIST;
	}
	if (ret < 0)
		goto out_unlock;
	dev->index = ret;
	snprintf(dev->name, sizeof(dev->name), ABUSE_DISK_PREFIX "%d",
		 dev->index);
	ret = abuse_create_disk(dev);
	if (ret) {
		idr_remove(&abuse_idr, dev->index);
		goto out_unlock;
	}
	/*
	 * Under abuse_ctl_mutex: once it is released, a REMOVE of the new
	 * number may free @dev at once, and we hold no reference of our own.
	 */
	abuse_fill_info(dev, &info);
	mutex_unlock(&abuse_ctl_mutex);

	if (copy_to_user(argp, &info, sizeof(info)))
		return -EFAULT;	/* the device exists; NEXT finds it */
	return 0;

out_unlock:
	mutex_unlock(&abuse_ctl_mutex);
	kvfree(dev->slots);
	kfree(dev);
	return ret;
}

/* ---- START, REMOVE, RESET ---- */

static int abuse_start(unsigned long index)
{
	struct abuse_device *dev = abuse_get(index);
	u32 state;
	unsigned int servers;
	int ret = 0;

	if (!dev)
		return index > INT_MAX ? -EINVAL : -ENODEV;
	if (mutex_lock_interruptible(&dev->lifecycle)) {
		abuse_put(dev);
		return -EINTR;
	}
	spin_lock_irq(&dev->lock);
	state = dev->state;
	servers = dev->nr_servers;
	spin_unlock_irq(&dev->lock);
	if (state == ABUSE_STATE_DEAD || dev->gone) {
		ret = -ENODEV;
	} else if (dev->added) {
		ret = 0;		/* a new server took over: nothing to do */
	} else if (!servers) {
		ret = -ENOTCONN;	/* the partition scan needs a server */
	} else {
		/* The core reads the partition table through our servers. */
		ret = device_add_disk(NULL, dev->disk, abuse_attr_groups);
		if (!ret) {
			dev->added = true;
			spin_lock_irq(&dev->lock);
			if (dev->state == ABUSE_STATE_ADDED)
				WRITE_ONCE(dev->state, ABUSE_STATE_LIVE);
			spin_unlock_irq(&dev->lock);
		}
	}
	mutex_unlock(&dev->lifecycle);
	abuse_put(dev);
	return ret;
}

/* Mark @dev dead and fail every request it holds. */
static void abuse_kill(struct abuse_device *dev)
{
	LIST_HEAD(failed);

	spin_lock_irq(&dev->lock);
	WRITE_ONCE(dev->state, ABUSE_STATE_DEAD);
	abuse_collect_all_locked(dev, &failed);
	spin_unlock_irq(&dev->lock);
	wake_up_all(&dev->wq);
	abuse_end_list(&failed, BLK_STS_IOERR);
}

/*
 * Tear down @dev (lifecycle held, no opener): fail its I/O, delete the
 * disk, and only then give its number back, so that an ADD of the same
 * number never meets the old disk's sysfs entries.
 */
static void abuse_destroy(struct abuse_device *dev)
{
	abuse_kill(dev);
	cancel_delayed_work_sync(&dev->orphan_work);
	if (dev->added)
		del_gendisk(dev->disk);
	/* The disk's queue may still use the tag set (see abuse_put_disk). */
	abuse_put_disk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
	dev->disk = NULL;
	dev->gone = true;
	mutex_lock(&abuse_ctl_mutex);
	idr_remove(&abuse_idr, dev->index);
	mutex_unlock(&abuse_ctl_mutex);
}

static int abuse_remove(unsigned long index)
{
	struct abuse_device *dev = abuse_get(index);
	struct gendisk *disk;
	int ret = 0;

	if (!dev)
		return index > INT_MAX ? -EINVAL : -ENODEV;
	/* Interruptible: a START may wait long for a silent server. */
	if (mutex_lock_interruptible(&dev->lifecycle)) {
		abuse_put(dev);
		return -EINTR;
	}
	if (dev->gone) {
		ret = -ENODEV;
		goto out;
	}
	disk = dev->disk;
	if (dev->added) {
		if (mutex_lock_interruptible(&disk->open_mutex)) {
			ret = -EINTR;
			goto out;
		}
		if (abuse_disk_openers(disk)) {
			mutex_unlock(&disk->open_mutex);
			ret = -EBUSY;
			goto out;
		}
		dev->removing = true;
		mutex_unlock(&disk->open_mutex);
	}
	abuse_destroy(dev);
	abuse_put(dev);		/* the reference of abuse_idr */
out:
	mutex_unlock(&dev->lifecycle);
	abuse_put(dev);
	return ret;
}

static int abuse_reset(unsigned long index)
{
	struct abuse_device *dev = abuse_get(index);
	LIST_HEAD(failed);

	if (!dev)
		return index > INT_MAX ? -EINVAL : -ENODEV;
	spin_lock_irq(&dev->lock);
	abuse_collect_all_locked(dev, &failed);
	spin_unlock_irq(&dev->lock);
	abuse_end_list(&failed, BLK_STS_IOERR);
	abuse_put(dev);
	return 0;
}

static int abuse_get_status(void __user *argp, bool next)
{
	struct abuse_dev_info info;
	struct abuse_device *dev;
	int id;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (info.index < 0)
		return -EINVAL;
	id = info.index;
	mutex_lock(&abuse_ctl_mutex);
	dev = next ? idr_get_next(&abuse_idr, &id) :
		     idr_find(&abuse_idr, id);
	if (dev)
		abuse_fill_info(dev, &info);
	mutex_unlock(&abuse_ctl_mutex);
	if (!dev)
		return -ENODEV;
	if (copy_to_user(argp, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static int abuse_set_backing(void __user *argp)
{
	struct abuse_backing *b;
	struct abuse_device *dev;
	int ret = 0;

	b = memdup_user(argp, sizeof(*b));
	if (IS_ERR(b))
		return PTR_ERR(b);
	if (b->index < 0 || b->reserved ||
	    strnlen(b->text, sizeof(b->text)) == sizeof(b->text)) {
		ret = -EINVAL;
		goto out;
	}
	dev = abuse_get(b->index);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	spin_lock_irq(&dev->lock);
	strscpy(dev->backing, b->text, sizeof(dev->backing));
	spin_unlock_irq(&dev->lock);
	abuse_put(dev);
out:
	kfree(b);
	return ret;
}

static int abuse_get_backing(void __user *argp)
{
	struct abuse_backing *b;
	struct abuse_device *dev;
	int ret = 0;

	b = memdup_user(argp, sizeof(*b));
	if (IS_ERR(b))
		return PTR_ERR(b);
	if (b->index < 0 || b->reserved) {
		ret = -EINVAL;
		goto out;
	}
	dev = abuse_get(b->index);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	memset(b->text, 0, sizeof(b->text));
	spin_lock_irq(&dev->lock);
	strscpy(b->text, dev->backing, sizeof(b->text));
	spin_unlock_irq(&dev->lock);
	abuse_put(dev);
	if (copy_to_user(argp, b, sizeof(*b)))
		ret = -EFAULT;
out:
	kfree(b);
	return ret;
}

/* ---- server side ---- */

static struct abuse_device *abuse_server_dev(struct abuse_server *srv)
{
	/* Pairs with smp_store_release() in abuse_attach(). */
	return smp_load_acquire(&srv->dev);
}

/* Forward a wake-up of the device to pollers that came before ATTACH. */
static int abuse_relay_wake(struct wait_queue_entry *wait, unsigned int mode,
			    int sync, void *key)
{
	struct abuse_server *srv = container_of(wait, struct abuse_server,
						relay);

	__wake_up(&srv->early_wq, mode, 1, key);
	return 0;	/* not a waiter of the device: wake the next one */
}

static void abuse_start_relay(struct abuse_server *srv,
			      struct abuse_device *dev)
{
	bool start;

	spin_lock(&srv->poll_lock);
	start = srv->polled_early && !srv->relaying;
	srv->relaying |= start;
	spin_unlock(&srv->poll_lock);
	if (!start)
		return;
	init_waitqueue_func_entry(&srv->relay, abuse_relay_wake);
	add_wait_queue(&dev->wq, &srv->relay);
	wake_up(&srv->early_wq);	/* requests may be queued already */
}

static int abuse_attach(struct abuse_server *srv, unsigned long index)
{
	struct abuse_device *dev;
	struct abuse_cmd *cmd;
	int ret = 0;

	if (index > INT_MAX)
		return -EINVAL;
	mutex_lock(&abuse_ctl_mutex);
	if (srv->dev) {
		ret = -EBUSY;
		goto out;
	}
	dev = idr_find(&abuse_idr, index);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	spin_lock_irq(&dev->lock);
	if (dev->state == ABUSE_STATE_DEAD) {
		spin_unlock_irq(&dev->lock);
		ret = -ENODEV;
		goto out;
	}
	kref_get(&dev->kref);
	srv->tgid = get_task_pid(current, PIDTYPE_TGID);
	list_add_tail(&srv->node, &dev->servers);
	if (!dev->nr_servers++) {
		/* Requests that waited for a server get their full time. */
		list_for_each_entry(cmd, &dev->pending, node)
			cmd->deadline = jiffies + abuse_secs(dev->io_timeout);
		cancel_delayed_work(&dev->orphan_work);
	}
	dev->server_pid = task_tgid_vnr(current);
	spin_unlock_irq(&dev->lock);
	smp_store_release(&srv->dev, dev);
	/* Pairs with the barrier in abuse_ctl_poll(). */
	smp_mb();
	abuse_start_relay(srv, dev);
out:
	mutex_unlock(&abuse_ctl_mutex);
	return ret;
}

/*
 * Move the data of @rq between its pages and the user buffer at @uaddr.
 * Through an iov_iter, page by page: never a copy_to_user() of a kernel
 * address, which hardened usercopy refuses for slab memory.
 */
static int abuse_copy_rq(struct request *rq, u64 uaddr, bool to_user)
{
	void __user *ubuf = u64_to_user_ptr(uaddr);
	size_t len = blk_rq_bytes(rq);
	struct req_iterator rq_iter;
	struct iov_iter iter;
	struct bio_vec bv;
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 0, 0)
	struct iovec iov;

	if (import_single_range(to_user ? ITER_DEST : ITER_SOURCE, ubuf, len,
				&iov, &iter))
		return -EFAULT;
#else
	if (!access_ok(ubuf, len))
		return -EFAULT;
	iov_iter_ubuf(&iter, to_user ? ITER_DEST : ITER_SOURCE, ubuf, len);
#endif
	rq_for_each_segment(bv, rq, rq_iter) {
		size_t done;

		if (to_user)
			done = copy_page_to_iter(bv.bv_page, bv.bv_offset,
						 bv.bv_len, &iter);
		else
			done = copy_page_from_iter(bv.bv_page, bv.bv_offset,
						   bv.bv_len, &iter);
		if (done != bv.bv_len)
			return -EFAULT;
	}
	return 0;
}

/* A completion's own fields, before it may touch any request. */
static bool abuse_completion_valid(const struct abuse_completion *c)
{
	return !c->reserved && c->result <= 0 && c->result >= -MAX_ERRNO;
}

static void abuse_reject(struct abuse_device *dev)
{
	atomic64_inc(&dev->errors);
}

/*
 * Complete one request.  Returns 0 if @c completed it, -EINVAL if @c was
 * rejected (the request, if any, is unchanged), or -ENODEV.
 */
static int abuse_complete_one(struct abuse_device *dev,
			      struct abuse_server *srv,
			      const struct abuse_completion *c)
{
	struct abuse_cmd *cmd;
	struct request *rq;
	blk_status_t status;
	bool copy;
	int ret;

	if (!abuse_completion_valid(c))
		goto reject;
	spin_lock_irq(&dev->lock);
	if (dev->state == ABUSE_STATE_DEAD) {
		spin_unlock_irq(&dev->lock);
		return -ENODEV;
	}
	rq = c->tag < dev->nr_slots ? dev->slots[c->tag] : NULL;
	cmd = rq ? blk_mq_rq_to_pdu(rq) : NULL;
	/* Only the descriptor that fetched it, with the handle it got. */
	if (!cmd || cmd->state != ABUSE_CMD_INFLIGHT || cmd->seq != c->seq ||
	    cmd->owner != srv)
		goto reject_unlock;
	copy = req_op(rq) == REQ_OP_READ && !c->result;
	if (copy && c->len != blk_rq_bytes(rq))
		goto reject_unlock;
	if (!copy) {
		abuse_take_locked(dev, cmd);
		spin_unlock_irq(&dev->lock);
		blk_mq_end_request(rq, c->result ?
				   errno_to_blk_status(c->result) :
				   BLK_STS_OK);
		return 0;
	}
	cmd->state = ABUSE_CMD_COMPLETING;
	spin_unlock_irq(&dev->lock);

	ret = abuse_copy_rq(rq, c->addr, false);

	spin_lock_irq(&dev->lock);
	if (ret && !cmd->abort) {
		/* The server may try again with a usable address. */
		cmd->state = ABUSE_CMD_INFLIGHT;
		goto reject_unlock;
	}
	status = cmd->abort ? BLK_STS_IOERR : BLK_STS_OK;
	abuse_take_locked(dev, cmd);
	spin_unlock_irq(&dev->lock);
	blk_mq_end_request(rq, status);
	if (ret)
		goto reject;
	return 0;

reject_unlock:
	spin_unlock_irq(&dev->lock);
reject:
	abuse_reject(dev);
	return -EINVAL;
}

static int abuse_commit(struct abuse_device *dev, struct abuse_server *srv,
			struct abuse_xfer *x)
{
	struct abuse_completion __user *uc = u64_to_user_ptr(x->cmpl_addr);
	struct abuse_completion c;
	u32 i;
	int ret;

	for (i = 0; i < x->cmpl_count; i++) {
		if (copy_from_user(&c, &uc[i], sizeof(c)))
			return -EFAULT;
		ret = abuse_complete_one(dev, srv, &c);
		if (ret == -ENODEV)
			return ret;
		if (ret)
			x->cmpl_errors++;
		else
			x->cmpl_done++;
	}
	return 0;
}

static void abuse_describe(struct request *rq, struct abuse_request *desc)
{
	desc->offset = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	desc->len = blk_rq_bytes(rq);
	switch (req_op(rq)) {
	case REQ_OP_READ:
		desc->op = ABUSE_OP_READ;
		break;
	case REQ_OP_WRITE:
		desc->op = ABUSE_OP_WRITE;
		break;
	case REQ_OP_FLUSH:
		desc->op = ABUSE_OP_FLUSH;
		desc->len = 0;
		break;
	case REQ_OP_DISCARD:
		desc->op = ABUSE_OP_DISCARD;
		break;
	default:
		desc->op = ABUSE_OP_WRITE_ZEROES;
		if (rq->cmd_flags & REQ_NOUNMAP)
			desc->flags |= ABUSE_REQ_NOUNMAP;
		break;
	}
	if (rq->cmd_flags & REQ_FUA)
		desc->flags |= ABUSE_REQ_FUA;
}

/*
 * Fetch the oldest queued request into @ureq.  Returns 0 when fetched,
 * 1 when it was aborted meanwhile (try the next), -EAGAIN when nothing
 * is queued, -ENOSPC when the write payload does not fit, -EFAULT or
 * -ENODEV.
 */
static int abuse_fetch_one(struct abuse_device *dev, struct abuse_server *srv,
			   struct abuse_request __user *ureq,
			   const struct abuse_xfer *x, u32 *data_used)
{
	struct abuse_request desc = {};
	struct abuse_cmd *cmd;
	struct request *rq;
	bool is_write;
	int ret = 0;

	spin_lock_irq(&dev->lock);
	if (dev->state == ABUSE_STATE_DEAD) {
		spin_unlock_irq(&dev->lock);
		return -ENODEV;
	}
	cmd = list_first_entry_or_null(&dev->pending, struct abuse_cmd, node);
	if (!cmd) {
		spin_unlock_irq(&dev->lock);
		return -EAGAIN;
	}
	rq = blk_mq_rq_from_pdu(cmd);
	is_write = req_op(rq) == REQ_OP_WRITE;
	if (is_write && blk_rq_bytes(rq) > x->data_len - *data_used) {
		spin_unlock_irq(&dev->lock);
		return -ENOSPC;
	}
	cmd->state = ABUSE_CMD_FETCHING;
	cmd->seq = ++dev->seq;
	cmd->owner = srv;
	cmd->deadline = jiffies + abuse_secs(dev->io_timeout);
	list_move_tail(&cmd->node, &srv->inflight);
	dev->nr_queued--;
	dev->nr_inflight++;
	spin_unlock_irq(&dev->lock);

	desc.tag = cmd->slot;
	desc.seq = cmd->seq;
	abuse_describe(rq, &desc);
	if (is_write) {
		desc.data_offset = *data_used;
		ret = abuse_copy_rq(rq, x->data_addr + *data_used, true);
	}
	if (!ret && copy_to_user(ureq, &desc, sizeof(desc)))
		ret = -EFAULT;

	spin_lock_irq(&dev->lock);
	if (cmd->abort) {
		abuse_take_locked(dev, cmd);
		spin_unlock_irq(&dev->lock);
		blk_mq_end_request(rq, BLK_STS_IOERR);
		return ret ? ret : 1;
	}
	if (ret) {
		/* Give it back, first in line, under a new handle later. */
		list_move(&cmd->node, &dev->pending);
		cmd->state = ABUSE_CMD_QUEUED;
		cmd->owner = NULL;
		dev->nr_inflight--;
		dev->nr_queued++;
		spin_unlock_irq(&dev->lock);
		wake_up(&dev->wq);
		return ret;
	}
	cmd->state = ABUSE_CMD_INFLIGHT;
	spin_unlock_irq(&dev->lock);
	if (is_write)
		*data_used += desc.len;
	return 0;
}

static bool abuse_fetch_ready(struct abuse_device *dev)
{
	return READ_ONCE(dev->nr_queued) ||
	       READ_ONCE(dev->state) == ABUSE_STATE_DEAD;
}

static long abuse_fetch(struct file *file, struct abuse_device *dev,
			struct abuse_server *srv, const struct abuse_xfer *x)
{
	struct abuse_request __user *ureq = u64_to_user_ptr(x->req_addr);
	u32 n = 0, data_used = 0;
	int ret;

	while (n < x->req_count) {
		ret = abuse_fetch_one(dev, srv, &ureq[n], x, &data_used);
		if (ret == 0) {
			n++;
			continue;
		}
		if (ret == 1)
			continue;
		if (n)
			break;
		if (ret != -EAGAIN)
			return ret;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		/* Exclusive: one queued request wakes one server thread. */
		if (wait_event_interruptible_exclusive(dev->wq,
						       abuse_fetch_ready(dev)))
			return -EINTR;
	}
	return n;
}

static long abuse_commit_and_fetch(struct file *file,
				   struct abuse_server *srv,
				   struct abuse_xfer __user *argp)
{
	struct abuse_device *dev = abuse_server_dev(srv);
	struct abuse_xfer x;
	long ret;

	if (copy_from_user(&x, argp, sizeof(x)))
		return -EFAULT;
	if (x.reserved0 || x.reserved1 || x.cmpl_count > ABUSE_MAX_BATCH ||
	    x.req_count > ABUSE_MAX_BATCH)
		return -EINVAL;
	if (!dev)
		return -ENXIO;
	/* A descriptor serves only in the process that attached it. */
	if (task_tgid(current) != srv->tgid)
		return -EPERM;

	x.cmpl_done = 0;
	x.cmpl_errors = 0;
	ret = abuse_commit(dev, srv, &x);
	if (put_user(x.cmpl_done, &argp->cmpl_done) ||
	    put_user(x.cmpl_errors, &argp->cmpl_errors))
		return -EFAULT;
	if (ret)
		return ret;
	return abuse_fetch(file, dev, srv, &x);
}

/* ---- /dev/abctl ---- */

static int abuse_ctl_open(struct inode *inode, struct file *file)
{
	struct abuse_server *srv;

	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv)
		return -ENOMEM;
	INIT_LIST_HEAD(&srv->node);
	INIT_LIST_HEAD(&srv->inflight);
	spin_lock_init(&srv->poll_lock);
	init_waitqueue_head(&srv->early_wq);
	file->private_data = srv;
	return 0;
}

/*
 * Hand the requests of a server process that is gone to the next one,
 * or fail them (ABUSE_FLAG_RECOVERY_FAIL).  Returns how many were
 * requeued.
 */
static unsigned int abuse_recover_locked(struct abuse_device *dev,
					 struct pid *tgid,
					 struct list_head *failed)
{
	struct abuse_cmd *cmd, *tmp;
	unsigned int requeued = 0;

	/* From the newest, each to the head: the oldest ends up first. */
	list_for_each_entry_safe_reverse(cmd, tmp, &dev->held, node) {
		if (cmd->held_for != tgid)
			continue;
		if (dev->recovery_fail) {
			abuse_take_locked(dev, cmd);
			list_add(&cmd->node, failed);
		} else {
			abuse_requeue_locked(dev, cmd);
			requeued++;
		}
	}
	return requeued;
}

static int abuse_ctl_release(struct inode *inode, struct file *file)
{
	struct abuse_server *srv = file->private_data;
	struct abuse_device *dev = srv->dev;
	struct abuse_server *other;
	struct abuse_cmd *cmd, *tmp;
	unsigned int requeued = 0;
	bool siblings = false;
	LIST_HEAD(failed);

	if (!dev)
		goto out;
	if (srv->relaying)
		remove_wait_queue(&dev->wq, &srv->relay);
	spin_lock_irq(&dev->lock);
	list_del(&srv->node);
	dev->nr_servers--;
	list_for_each_entry(other, &dev->servers, node)
		siblings |= other->tgid == srv->tgid;
	/*
	 * No ioctl of ours can run: we hold the last file reference, so
	 * everything on srv->inflight is INFLIGHT.  A sibling descriptor
	 * means a live thread of the server may still be working on these
	 * requests: hold them until the whole server is gone.
	 */
	list_for_each_entry_safe(cmd, tmp, &srv->inflight, node) {
		cmd->state = ABUSE_CMD_HELD;
		cmd->owner = NULL;
		cmd->held_for = srv->tgid;
		list_move_tail(&cmd->node, &dev->held);
		dev->nr_held++;
	}
	if (!siblings)
		requeued = abuse_recover_locked(dev, srv->tgid, &failed);
	if (!dev->nr_servers) {
		dev->orphan_since = jiffies;
		abuse_arm_orphan_locked(dev, true);
	}
	spin_unlock_irq(&dev->lock);
	if (requeued || !list_empty(&failed))
		pr_info("%s: server gone, %u requests requeued%s\n", dev->name,
			requeued, list_empty(&failed) ? "" : ", others failed");
	abuse_end_list(&failed, BLK_STS_IOERR);
	if (requeued)
		wake_up_all(&dev->wq);
	put_pid(srv->tgid);
	abuse_put(dev);
out:
	kfree(srv);
	return 0;
}

static __poll_t abuse_ctl_poll(struct file *file, poll_table *wait)
{
	struct abuse_server *srv = file->private_data;
	struct abuse_device *dev = abuse_server_dev(srv);
	__poll_t mask = 0;

	if (!dev) {
		spin_lock(&srv->poll_lock);
		srv->polled_early = true;
		spin_unlock(&srv->poll_lock);
		poll_wait(file, &srv->early_wq, wait);
		/* Pairs with the barrier in abuse_attach(). */
		smp_mb();
		dev = abuse_server_dev(srv);
		if (!dev)
			return 0;
		abuse_start_relay(srv, dev);
	} else {
		poll_wait(file, &dev->wq, wait);
	}
	if (READ_ONCE(dev->state) == ABUSE_STATE_DEAD)
		return EPOLLHUP | EPOLLERR;
	if (READ_ONCE(dev->nr_queued))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static long abuse_ctl_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct abuse_server *srv = file->private_data;
	void __user *argp = (void __user *)arg;
	u64 features = ABUSE_FEAT_SEQ_HANDLES | ABUSE_FEAT_START |
		       ABUSE_FEAT_IO_TIMEOUT | ABUSE_FEAT_RECOVERY |
		       ABUSE_FEAT_NEXT;

	switch (cmd) {
	case ABUSE_GET_FEATURES:
		return put_user(features, (u64 __user *)argp) ? -EFAULT : 0;
	case ABUSE_COMMIT_AND_FETCH:
		/* Checked against the attaching process instead. */
		return abuse_commit_and_fetch(file, srv, argp);
	}
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case ABUSE_CTL_ADD:
		return abuse_add(argp);
	case ABUSE_CTL_REMOVE:
		return abuse_remove(arg);
	case ABUSE_CTL_GET_STATUS:
		return abuse_get_status(argp, false);
	case ABUSE_CTL_NEXT:
		return abuse_get_status(argp, true);
	case ABUSE_CTL_RESET:
		return abuse_reset(arg);
	case ABUSE_CTL_SET_BACKING:
		return abuse_set_backing(argp);
	case ABUSE_CTL_GET_BACKING:
		return abuse_get_backing(argp);
	case ABUSE_CTL_START:
		return abuse_start(arg);
	case ABUSE_ATTACH:
		return abuse_attach(srv, arg);
	}
	return -ENOTTY;
}

static const struct file_operations abuse_ctl_fops = {
	.owner		= THIS_MODULE,
	.open		= abuse_ctl_open,
	.release	= abuse_ctl_release,
	.unlocked_ioctl	= abuse_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.poll		= abuse_ctl_poll,
	.llseek		= noop_llseek,
};

static struct miscdevice abuse_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= ABUSE_CTL_DEV_NAME,
	.fops	= &abuse_ctl_fops,
	.mode	= 0600,
};

static int __init abuse_init(void)
{
	int ret;

	if (max_part > DISK_MAX_PARTS - 1) {
		pr_err("max_part must be at most %d\n", DISK_MAX_PARTS - 1);
		return -EINVAL;
	}
	abuse_minors = max_part + 1;

	abuse_major = register_blkdev(0, ABUSE_DISK_PREFIX);
	if (abuse_major < 0)
		return abuse_major;
	ret = misc_register(&abuse_misc);
	if (ret) {
		unregister_blkdev(abuse_major, ABUSE_DISK_PREFIX);
		return ret;
	}
	return 0;
}

static void __exit abuse_exit(void)
{
	struct abuse_device *dev;
	int id;

	/*
	 * No descriptor and no disk can be open: both pin the module, so
	 * no server is attached and nothing else looks devices up.
	 */
	misc_deregister(&abuse_misc);
	idr_for_each_entry(&abuse_idr, dev, id) {
		mutex_lock(&dev->lifecycle);
		dev->removing = true;
		abuse_destroy(dev);
		mutex_unlock(&dev->lifecycle);
		abuse_put(dev);
	}
	idr_destroy(&abuse_idr);
	unregister_blkdev(abuse_major, ABUSE_DISK_PREFIX);
}

module_init(abuse_init);
module_exit(abuse_exit);

MODULE_DESCRIPTION("A Block device in User SpacE");
MODULE_AUTHOR("vdmount");
MODULE_LICENSE("GPL");
