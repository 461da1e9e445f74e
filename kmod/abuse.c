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
 *   queue_rq -> QUEUED (dev->pending) -> FETCHING (srv->inflight, being
 *   copied out) -> INFLIGHT (srv->inflight) -> COMPLETING (on no list,
 *   owned by the one thread that will end it)
 *
 * A request is ended only by the thread that moved it to COMPLETING, so
 * it is never ended twice.  A request in FETCHING belongs to the fetching
 * thread; reset and removal only mark it (abort) and the fetcher ends it.
 * Closing a server descriptor moves its INFLIGHT requests back to the
 * head of dev->pending with a new generation at the next fetch, so a late
 * completion of the old handle is rejected.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/init.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "abuse.h"

static unsigned int max_part = 15;
module_param(max_part, uint, 0444);
MODULE_PARM_DESC(max_part, "Partitions per device (0..255, default 15)");

static unsigned int no_server_timeout = 30;
module_param(no_server_timeout, uint, 0644);
MODULE_PARM_DESC(no_server_timeout,
		 "Seconds a device without server keeps its requests before failing them (0 = forever, default 30)");

#define ABUSE_DEF_BLOCK_SIZE	512
#define ABUSE_DEF_REQ_BYTES	(1U << 20)
#define ABUSE_DEF_QUEUE_DEPTH	128
#define ABUSE_MAX_SIZE		(1ULL << 60)

static int abuse_major;
static unsigned int abuse_minors;	/* minors per device */

/*
 * abuse_ctl_mutex protects abuse_idr and serializes add, reset, attach and
 * the lookups of the other ioctls.  abuse_remove_mutex serializes removals
 * (the only path that frees a device) and is taken before abuse_ctl_mutex.
 */
static DEFINE_MUTEX(abuse_ctl_mutex);
static DEFINE_MUTEX(abuse_remove_mutex);
static DEFINE_IDR(abuse_idr);

enum abuse_cmd_state {
	ABUSE_CMD_IDLE,
	ABUSE_CMD_QUEUED,	/* on dev->pending */
	ABUSE_CMD_FETCHING,	/* on srv->inflight, copy to user running */
	ABUSE_CMD_INFLIGHT,	/* on srv->inflight, the server has it */
	ABUSE_CMD_COMPLETING,	/* on no list, being ended by one thread */
};

struct abuse_server;

/* Per-request driver data (blk_mq_rq_to_pdu). */
struct abuse_cmd {
	struct list_head node;		/* dev->pending or owner->inflight */
	struct abuse_server *owner;	/* fetching/serving descriptor */
	u32 slot;			/* index in dev->slots, the tag */
	u32 gen;			/* handle generation */
	u8 state;			/* enum abuse_cmd_state */
	bool abort;			/* FETCHING: end it with EIO */
};

struct abuse_device {
	int index;
	u32 flags;			/* ABUSE_FLAG_* */
	u64 size;			/* bytes */
	u32 block_size;			/* bytes */
	u32 max_req_bytes;		/* bytes */
	u32 queue_depth;		/* per hw queue */
	u32 nr_hw_queues;
	u32 nr_slots;			/* nr_hw_queues * queue_depth */

	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	struct kref kref;		/* idr + one per attached server */
	struct work_struct scan_work;	/* partition scan on first attach */
	struct delayed_work timeout_work; /* fails requests without server */
	wait_queue_head_t wq;		/* servers (exclusive) and pollers */
	atomic_t errors;		/* rejected completions */
	bool removing;			/* under disk->open_mutex */

	/*
	 * lock protects everything below, and node, owner, gen, state and
	 * abort of every abuse_cmd of this device.  Taken from queue_rq:
	 * nothing may sleep under it.  Lock order: disk->open_mutex and
	 * abuse_ctl_mutex before lock.
	 */
	spinlock_t lock;
	bool dead;			/* removed: fail everything */
	bool scanned;			/* partition scan queued */
	struct list_head pending;	/* QUEUED requests, oldest first */
	struct list_head servers;	/* attached abuse_server */
	struct request **slots;		/* requests owned by us, by tag */
	unsigned int nr_servers;
	unsigned int nr_queued;
	unsigned int nr_inflight;	/* FETCHING + INFLIGHT */
	unsigned int timeout;		/* seconds, 0 = forever */
	unsigned long orphan_since;	/* jiffies: last server went away */
	pid_t server_pid;		/* last attached server */
	char backing[ABUSE_BACKING_LEN];
};

/* One per open /dev/abctl descriptor. */
struct abuse_server {
	struct abuse_device *dev;	/* set once by ATTACH */
	struct list_head node;		/* on dev->servers, under dev->lock */
	struct list_head inflight;	/* our requests, under dev->lock */
};

static void abuse_dev_free(struct kref *kref)
{
	struct abuse_device *dev = container_of(kref, struct abuse_device,
						kref);

	kvfree(dev->slots);
	kfree(dev);
}

/* Take @cmd off every list and make the caller its only owner. */
static void abuse_detach_locked(struct abuse_device *dev,
				struct abuse_cmd *cmd)
{
	lockdep_assert_held(&dev->lock);
	list_del_init(&cmd->node);
	dev->slots[cmd->slot] = NULL;
	if (cmd->state == ABUSE_CMD_QUEUED)
		dev->nr_queued--;
	else
		dev->nr_inflight--;
	cmd->state = ABUSE_CMD_COMPLETING;
	cmd->owner = NULL;
}

static void abuse_end_list(struct list_head *list, blk_status_t status)
{
	struct abuse_cmd *cmd, *tmp;

	list_for_each_entry_safe(cmd, tmp, list, node) {
		list_del_init(&cmd->node);
		blk_mq_end_request(blk_mq_rq_from_pdu(cmd), status);
	}
}

/*
 * Move every queued request, and unless @queued_only every in-flight one,
 * to @out.  Requests being fetched are marked for their fetcher to end.
 */
static void abuse_collect_locked(struct abuse_device *dev,
				 struct list_head *out, bool queued_only)
{
	struct abuse_server *srv;
	struct abuse_cmd *cmd, *tmp;

	lockdep_assert_held(&dev->lock);
	list_for_each_entry_safe(cmd, tmp, &dev->pending, node) {
		abuse_detach_locked(dev, cmd);
		list_add_tail(&cmd->node, out);
	}
	if (queued_only)
		return;
	list_for_each_entry(srv, &dev->servers, node) {
		list_for_each_entry_safe(cmd, tmp, &srv->inflight, node) {
			if (cmd->state == ABUSE_CMD_FETCHING) {
				cmd->abort = true;
				continue;
			}
			abuse_detach_locked(dev, cmd);
			list_add_tail(&cmd->node, out);
		}
	}
}

static unsigned long abuse_deadline_locked(struct abuse_device *dev)
{
	return dev->orphan_since + (unsigned long)dev->timeout * HZ;
}

static bool abuse_orphan_expired_locked(struct abuse_device *dev)
{
	return !dev->nr_servers && dev->timeout &&
	       time_after_eq(jiffies, abuse_deadline_locked(dev));
}

static void abuse_arm_timeout_locked(struct abuse_device *dev)
{
	if (dev->nr_servers || !dev->timeout || dev->dead)
		return;
	if (!delayed_work_pending(&dev->timeout_work))
		schedule_delayed_work(&dev->timeout_work,
				      abuse_deadline_locked(dev) - jiffies);
}

/* The deadline moved: make the work run at the new one. */
static void abuse_rearm_timeout_locked(struct abuse_device *dev)
{
	unsigned long deadline = abuse_deadline_locked(dev);

	if (dev->nr_servers || !dev->timeout || dev->dead ||
	    list_empty(&dev->pending))
		return;
	mod_delayed_work(system_wq, &dev->timeout_work,
			 time_after(deadline, jiffies) ? deadline - jiffies : 0);
}

static void abuse_timeout_workfn(struct work_struct *work)
{
	struct abuse_device *dev = container_of(to_delayed_work(work),
						struct abuse_device,
						timeout_work);
	LIST_HEAD(failed);

	spin_lock_irq(&dev->lock);
	if (!dev->dead && dev->nr_servers == 0 && dev->timeout) {
		if (abuse_orphan_expired_locked(dev))
			abuse_collect_locked(dev, &failed, true);
		else
			abuse_arm_timeout_locked(dev);
	}
	spin_unlock_irq(&dev->lock);
	if (!list_empty(&failed))
		pr_warn("%s: no server for %u s, failing requests\n",
			dev->disk->disk_name, dev->timeout);
	abuse_end_list(&failed, BLK_STS_IOERR);
}

static void abuse_scan_workfn(struct work_struct *work)
{
	struct abuse_device *dev = container_of(work, struct abuse_device,
						scan_work);
	struct gendisk *disk = dev->disk;

	mutex_lock(&disk->open_mutex);
	if (!dev->removing)
		bdev_disk_changed(disk, false);
	mutex_unlock(&disk->open_mutex);
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
	if (dev->dead || abuse_orphan_expired_locked(dev) ||
	    WARN_ON_ONCE(dev->slots[slot])) {
		spin_unlock_irqrestore(&dev->lock, flags);
		return BLK_STS_IOERR;
	}
	dev->slots[slot] = rq;
	cmd->slot = slot;
	cmd->state = ABUSE_CMD_QUEUED;
	cmd->abort = false;
	cmd->owner = NULL;
	list_add_tail(&cmd->node, &dev->pending);
	dev->nr_queued++;
	abuse_arm_timeout_locked(dev);
	spin_unlock_irqrestore(&dev->lock, flags);

	wake_up(&dev->wq);
	return BLK_STS_OK;
}

/* Our own timeout is the no-server timeout; servers may be slow. */
static enum blk_eh_timer_return abuse_rq_timeout(struct request *rq)
{
	return BLK_EH_RESET_TIMER;
}

static int abuse_init_request(struct blk_mq_tag_set *set, struct request *rq,
			      unsigned int hctx_idx, unsigned int numa_node)
{
	struct abuse_cmd *cmd = blk_mq_rq_to_pdu(rq);

	INIT_LIST_HEAD(&cmd->node);
	cmd->state = ABUSE_CMD_IDLE;
	return 0;
}

static const struct blk_mq_ops abuse_mq_ops = {
	.queue_rq	= abuse_queue_rq,
	.timeout	= abuse_rq_timeout,
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

#define ABUSE_SHOW_UINT(name, field)					\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct abuse_device *dev = abuse_from_dev(d);			\
									\
	return sysfs_emit(buf, "%u\n", (unsigned int)(field));	\
}

ABUSE_SHOW_UINT(server_pid, READ_ONCE(dev->server_pid))
static DEVICE_ATTR_RO(server_pid);
ABUSE_SHOW_UINT(queued, READ_ONCE(dev->nr_queued))
static DEVICE_ATTR_RO(queued);
ABUSE_SHOW_UINT(inflight, READ_ONCE(dev->nr_inflight))
static DEVICE_ATTR_RO(inflight);
ABUSE_SHOW_UINT(servers, READ_ONCE(dev->nr_servers))
static DEVICE_ATTR_RO(servers);
ABUSE_SHOW_UINT(errors, atomic_read(&dev->errors))
static DEVICE_ATTR_RO(errors);
ABUSE_SHOW_UINT(timeout, READ_ONCE(dev->timeout))

static ssize_t timeout_store(struct device *d, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct abuse_device *dev = abuse_from_dev(d);
	unsigned int val;
	int ret;

	ret = kstrtouint(buf, 0, &val);
	if (ret)
		return ret;
	spin_lock_irq(&dev->lock);
	dev->timeout = val;
	abuse_rearm_timeout_locked(dev);
	spin_unlock_irq(&dev->lock);
	return count;
}
static DEVICE_ATTR_RW(timeout);

static struct attribute *abuse_attrs[] = {
	&dev_attr_backing.attr,
	&dev_attr_server_pid.attr,
	&dev_attr_queued.attr,
	&dev_attr_inflight.attr,
	&dev_attr_servers.attr,
	&dev_attr_errors.attr,
	&dev_attr_timeout.attr,
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

/* ---- device creation and removal ---- */

static int abuse_check_info(struct abuse_dev_info *info)
{
	unsigned int max_index = (1U << MINORBITS) / abuse_minors;

	if (info->flags & ~ABUSE_FLAGS_ALL || info->reserved)
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
		info->timeout = READ_ONCE(no_server_timeout);
	return 0;
}

static void abuse_fill_info(struct abuse_device *dev,
			    struct abuse_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	info->index = dev->index;
	info->flags = dev->flags;
	info->size = dev->size;
	info->block_size = dev->block_size;
	info->max_req_bytes = dev->max_req_bytes;
	info->queue_depth = dev->queue_depth;
	info->nr_hw_queues = dev->nr_hw_queues;
	info->errors = atomic_read(&dev->errors);
	spin_lock_irq(&dev->lock);
	info->timeout = dev->timeout;
	info->nr_servers = dev->nr_servers;
	info->queued = dev->nr_queued;
	info->inflight = dev->nr_inflight;
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
		.features		= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA,
#endif
	};

	disk = blk_mq_alloc_disk(&dev->tag_set, &lim, dev);
	if (IS_ERR(disk))
		return disk;
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
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	blk_queue_write_cache(disk->queue, true, true);
#endif
	return disk;
}

/* Called with abuse_ctl_mutex held, dev->index allocated. */
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
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
	set->flags = BLK_MQ_F_SHOULD_MERGE;
#endif
	set->driver_data = dev;
	ret = blk_mq_alloc_tag_set(set);
	if (ret)
		return ret;
	/* The tag set may have lowered either number: never raised. */
	dev->nr_hw_queues = set->nr_hw_queues;
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
	/* No scan now: it would wait for a server.  First ATTACH scans. */
	disk->flags |= GENHD_FL_NO_PART;
	snprintf(disk->disk_name, DISK_NAME_LEN, ABUSE_DISK_PREFIX "%d",
		 dev->index);
	set_capacity(disk, dev->size >> SECTOR_SHIFT);
	if (dev->flags & ABUSE_FLAG_READ_ONLY)
		set_disk_ro(disk, true);
	dev->disk = disk;

	ret = device_add_disk(NULL, disk, abuse_attr_groups);
	if (ret)
		goto out_disk;
	if (abuse_minors > 1 && !(dev->flags & ABUSE_FLAG_NO_PARTSCAN))
		disk->flags &= ~GENHD_FL_NO_PART;
	return 0;

out_disk:
	put_disk(disk);
	dev->disk = NULL;
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
	dev->orphan_since = jiffies;
	kref_init(&dev->kref);
	spin_lock_init(&dev->lock);
	INIT_LIST_HEAD(&dev->pending);
	INIT_LIST_HEAD(&dev->servers);
	init_waitqueue_head(&dev->wq);
	INIT_WORK(&dev->scan_work, abuse_scan_workfn);
	INIT_DELAYED_WORK(&dev->timeout_work, abuse_timeout_workfn);

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
	ret = abuse_create_disk(dev);
	if (ret) {
		idr_remove(&abuse_idr, dev->index);
		goto out_unlock;
	}
	mutex_unlock(&abuse_ctl_mutex);

	abuse_fill_info(dev, &info);
	if (copy_to_user(argp, &info, sizeof(info)))
		return -EFAULT;	/* the device exists; GET_STATUS finds it */
	return 0;

out_unlock:
	mutex_unlock(&abuse_ctl_mutex);
	kvfree(dev->slots);
	kfree(dev);
	return ret;
}

/* Mark @dev dead and fail every request it holds. */
static void abuse_kill(struct abuse_device *dev)
{
	LIST_HEAD(failed);

	spin_lock_irq(&dev->lock);
	dev->dead = true;
	abuse_collect_locked(dev, &failed, false);
	spin_unlock_irq(&dev->lock);
	wake_up_all(&dev->wq);
	abuse_end_list(&failed, BLK_STS_IOERR);
}

/* @dev is out of abuse_idr and has no opener; tear it down. */
static void abuse_destroy(struct abuse_device *dev)
{
	abuse_kill(dev);
	cancel_work_sync(&dev->scan_work);
	cancel_delayed_work_sync(&dev->timeout_work);
	del_gendisk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
	put_disk(dev->disk);
	kref_put(&dev->kref, abuse_dev_free);
}

static int abuse_remove(unsigned long index)
{
	struct abuse_device *dev;
	struct gendisk *disk;
	int ret = 0;

	if (index > INT_MAX)
		return -EINVAL;
	/*
	 * Only removers destroy devices, so @dev stays valid under
	 * abuse_remove_mutex.  abuse_ctl_mutex is not held while waiting
	 * for open_mutex: a partition scan may hold that one while its I/O
	 * waits for a server that still has to attach.
	 */
	if (mutex_lock_interruptible(&abuse_remove_mutex))
		return -EINTR;
	mutex_lock(&abuse_ctl_mutex);
	dev = idr_find(&abuse_idr, index);
	mutex_unlock(&abuse_ctl_mutex);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}
	disk = dev->disk;
	/* A scan stuck on a silent server must not make us unkillable. */
	if (mutex_lock_interruptible(&disk->open_mutex)) {
		ret = -EINTR;
		goto out;
	}
	if (disk_openers(disk)) {
		mutex_unlock(&disk->open_mutex);
		ret = -EBUSY;
		goto out;
	}
	dev->removing = true;
	mutex_unlock(&disk->open_mutex);

	mutex_lock(&abuse_ctl_mutex);
	idr_remove(&abuse_idr, dev->index);
	mutex_unlock(&abuse_ctl_mutex);
	abuse_destroy(dev);
out:
	mutex_unlock(&abuse_remove_mutex);
	return ret;
}

static int abuse_reset(unsigned long index)
{
	struct abuse_device *dev;
	LIST_HEAD(failed);

	if (index > INT_MAX)
		return -EINVAL;
	mutex_lock(&abuse_ctl_mutex);
	dev = idr_find(&abuse_idr, index);
	if (!dev) {
		mutex_unlock(&abuse_ctl_mutex);
		return -ENODEV;
	}
	spin_lock_irq(&dev->lock);
	abuse_collect_locked(dev, &failed, false);
	spin_unlock_irq(&dev->lock);
	abuse_end_list(&failed, BLK_STS_IOERR);
	mutex_unlock(&abuse_ctl_mutex);
	return 0;
}

static int abuse_get_status(void __user *argp)
{
	struct abuse_dev_info info;
	struct abuse_device *dev;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (info.index < 0)
		return -EINVAL;
	mutex_lock(&abuse_ctl_mutex);
	dev = idr_find(&abuse_idr, info.index);
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
	mutex_lock(&abuse_ctl_mutex);
	dev = idr_find(&abuse_idr, b->index);
	if (dev) {
		spin_lock_irq(&dev->lock);
		strscpy(dev->backing, b->text, sizeof(dev->backing));
		spin_unlock_irq(&dev->lock);
	} else {
		ret = -ENODEV;
	}
	mutex_unlock(&abuse_ctl_mutex);
out:
	kfree(b);
	return ret;
}

/* ---- server side ---- */

static int abuse_attach(struct abuse_server *srv, unsigned long index)
{
	struct abuse_device *dev;
	bool scan = false;
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
	if (dev->dead) {
		spin_unlock_irq(&dev->lock);
		ret = -ENODEV;
		goto out;
	}
	kref_get(&dev->kref);
	list_add_tail(&srv->node, &dev->servers);
	dev->nr_servers++;
	dev->server_pid = task_tgid_vnr(current);
	/* A timeout armed while orphaned must not outlive the orphan time. */
	cancel_delayed_work(&dev->timeout_work);
	if (!dev->scanned) {
		dev->scanned = true;
		scan = !(dev->disk->flags & GENHD_FL_NO_PART);
	}
	spin_unlock_irq(&dev->lock);
	/* Pairs with smp_load_acquire() in abuse_server_dev(). */
	smp_store_release(&srv->dev, dev);
	if (scan)
		queue_work(system_long_wq, &dev->scan_work);
out:
	mutex_unlock(&abuse_ctl_mutex);
	return ret;
}

static struct abuse_device *abuse_server_dev(struct abuse_server *srv)
{
	return smp_load_acquire(&srv->dev);
}

/* Copy the data of @rq to or from the user buffer @ubuf. */
static int abuse_copy_rq(struct request *rq, u8 __user *ubuf, bool to_user)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		void *p = bvec_kmap_local(&bv);
		unsigned long left;

		if (to_user)
			left = copy_to_user(ubuf, p, bv.bv_len);
		else
			left = copy_from_user(p, ubuf, bv.bv_len);
		kunmap_local(p);
		if (left)
			return -EFAULT;
		ubuf += bv.bv_len;
	}
	return 0;
}

static blk_status_t abuse_result(struct request *rq,
				 const struct abuse_completion *c, bool *bad)
{
	if (c->result > 0 || c->result < -MAX_ERRNO) {
		*bad = true;
		return BLK_STS_IOERR;
	}
	if (c->result < 0)
		return errno_to_blk_status(c->result);
	if (req_op(rq) != REQ_OP_READ)
		return BLK_STS_OK;
	if (c->len != blk_rq_bytes(rq) ||
	    abuse_copy_rq(rq, u64_to_user_ptr(c->addr), false)) {
		*bad = true;
		return BLK_STS_IOERR;
	}
	return BLK_STS_OK;
}

/* Returns 0 if @c completed a request, -EINVAL if rejected, or -ENODEV. */
static int abuse_complete_one(struct abuse_device *dev,
			      const struct abuse_completion *c)
{
	struct abuse_cmd *cmd;
	struct request *rq;
	blk_status_t status;
	bool bad = false;

	spin_lock_irq(&dev->lock);
	if (dev->dead) {
		spin_unlock_irq(&dev->lock);
		return -ENODEV;
	}
	rq = c->tag < dev->nr_slots ? dev->slots[c->tag] : NULL;
	cmd = rq ? blk_mq_rq_to_pdu(rq) : NULL;
	if (!cmd || cmd->state != ABUSE_CMD_INFLIGHT ||
	    cmd->gen != c->generation) {
		spin_unlock_irq(&dev->lock);
		atomic_inc(&dev->errors);
		return -EINVAL;
	}
	abuse_detach_locked(dev, cmd);
	spin_unlock_irq(&dev->lock);

	status = abuse_result(rq, c, &bad);
	blk_mq_end_request(rq, status);
	if (bad) {
		atomic_inc(&dev->errors);
		return -EINVAL;
	}
	return 0;
}

static int abuse_commit(struct abuse_device *dev, struct abuse_xfer *x)
{
	struct abuse_completion __user *uc = u64_to_user_ptr(x->cmpl_addr);
	struct abuse_completion c;
	u32 i;
	int ret;

	for (i = 0; i < x->cmpl_count; i++) {
		if (copy_from_user(&c, &uc[i], sizeof(c)))
			return -EFAULT;
		ret = abuse_complete_one(dev, &c);
		if (ret == -ENODEV)
			return ret;
		if (ret)
			x->cmpl_errors++;
		else
			x->cmpl_done++;
	}
	return 0;
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
	if (dev->dead) {
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
	cmd->gen++;
	cmd->owner = srv;
	list_move_tail(&cmd->node, &srv->inflight);
	dev->nr_queued--;
	dev->nr_inflight++;
	spin_unlock_irq(&dev->lock);

	desc.tag = cmd->slot;
	desc.generation = cmd->gen;
	desc.offset = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	desc.len = blk_rq_bytes(rq);
	switch (req_op(rq)) {
	case REQ_OP_READ:
		desc.op = ABUSE_OP_READ;
		break;
	case REQ_OP_WRITE:
		desc.op = ABUSE_OP_WRITE;
		desc.data_offset = *data_used;
		break;
	case REQ_OP_FLUSH:
		desc.op = ABUSE_OP_FLUSH;
		desc.len = 0;
		break;
	case REQ_OP_DISCARD:
		desc.op = ABUSE_OP_DISCARD;
		break;
	default:
		desc.op = ABUSE_OP_WRITE_ZEROES;
		if (rq->cmd_flags & REQ_NOUNMAP)
			desc.flags |= ABUSE_REQ_NOUNMAP;
		break;
	}
	if (rq->cmd_flags & REQ_FUA)
		desc.flags |= ABUSE_REQ_FUA;

	if (is_write)
		ret = abuse_copy_rq(rq, u64_to_user_ptr(x->data_addr +
							*data_used), true);
	if (!ret && copy_to_user(ureq, &desc, sizeof(desc)))
		ret = -EFAULT;

	spin_lock_irq(&dev->lock);
	if (cmd->abort) {
		abuse_detach_locked(dev, cmd);
		spin_unlock_irq(&dev->lock);
		blk_mq_end_request(rq, BLK_STS_IOERR);
		return ret ? ret : 1;
	}
	if (ret) {
		/* Give it back, first in line. */
		cmd->state = ABUSE_CMD_QUEUED;
		cmd->owner = NULL;
		list_move(&cmd->node, &dev->pending);
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
	return READ_ONCE(dev->nr_queued) || READ_ONCE(dev->dead);
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

	x.cmpl_done = 0;
	x.cmpl_errors = 0;
	ret = abuse_commit(dev, &x);
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
	file->private_data = srv;
	return 0;
}

static int abuse_ctl_release(struct inode *inode, struct file *file)
{
	struct abuse_server *srv = file->private_data;
	struct abuse_device *dev = srv->dev;
	struct abuse_cmd *cmd, *tmp;
	unsigned int requeued = 0;

	if (dev) {
		spin_lock_irq(&dev->lock);
		list_del(&srv->node);
		dev->nr_servers--;
		/* No fetch can run: we hold the last file reference. */
		list_for_each_entry_safe_reverse(cmd, tmp, &srv->inflight,
						 node) {
			cmd->state = ABUSE_CMD_QUEUED;
			cmd->owner = NULL;
			list_move(&cmd->node, &dev->pending);
			dev->nr_inflight--;
			dev->nr_queued++;
			requeued++;
		}
		if (!dev->nr_servers) {
			dev->orphan_since = jiffies;
			abuse_rearm_timeout_locked(dev);
		}
		spin_unlock_irq(&dev->lock);
		if (requeued) {
			pr_info(ABUSE_DISK_PREFIX "%d: server gone, %u requests requeued\n",
				dev->index, requeued);
			wake_up_all(&dev->wq);
		}
		kref_put(&dev->kref, abuse_dev_free);
	}
	kfree(srv);
	return 0;
}

static __poll_t abuse_ctl_poll(struct file *file, poll_table *wait)
{
	struct abuse_server *srv = file->private_data;
	struct abuse_device *dev = abuse_server_dev(srv);
	__poll_t mask = 0;

	if (!dev)
		return EPOLLERR;
	poll_wait(file, &dev->wq, wait);
	if (READ_ONCE(dev->dead))
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

	switch (cmd) {
	case ABUSE_CTL_ADD:
		return abuse_add(argp);
	case ABUSE_CTL_REMOVE:
		return abuse_remove(arg);
	case ABUSE_CTL_GET_STATUS:
		return abuse_get_status(argp);
	case ABUSE_CTL_RESET:
		return abuse_reset(arg);
	case ABUSE_CTL_SET_BACKING:
		return abuse_set_backing(argp);
	case ABUSE_ATTACH:
		return abuse_attach(srv, arg);
	case ABUSE_COMMIT_AND_FETCH:
		return abuse_commit_and_fetch(file, srv, argp);
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

	/* No descriptor and no disk can be open: both pin the module. */
	misc_deregister(&abuse_misc);
	idr_for_each_entry(&abuse_idr, dev, id) {
		idr_remove(&abuse_idr, id);
		dev->removing = true;
		abuse_destroy(dev);
	}
	idr_destroy(&abuse_idr);
	unregister_blkdev(abuse_major, ABUSE_DISK_PREFIX);
}

module_init(abuse_init);
module_exit(abuse_exit);

MODULE_DESCRIPTION("A Block device in User SpacE");
MODULE_AUTHOR("vdmount");
MODULE_LICENSE("GPL");
