// SPDX-License-Identifier: GPL-2.0
/*
 * abi-layout: print the layout of abuse.h, one line per item, for tests
 * of other-language mirrors (e.g. the Java/JNA one) to compare against:
 *   struct NAME SIZE
 *   field NAME.FIELD OFFSET SIZE
 *   ioctl NAME NUMBER          (decimal)
 *   const NAME VALUE           (decimal)
 */
#include <stddef.h>
#include <stdio.h>

#include "abuse.h"

#define S(s)	printf("struct %s %zu\n", #s, sizeof(struct s))
#define F(s, f)	printf("field %s.%s %zu %zu\n", #s, #f, \
		       offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define I(n)	printf("ioctl %s %lu\n", #n, (unsigned long)(n))
#define C(n)	printf("const %s %lld\n", #n, (long long)(n))

int main(void)
{
	S(abuse_dev_info);
	F(abuse_dev_info, index);
	F(abuse_dev_info, flags);
	F(abuse_dev_info, size);
	F(abuse_dev_info, block_size);
	F(abuse_dev_info, max_req_bytes);
	F(abuse_dev_info, queue_depth);
	F(abuse_dev_info, nr_hw_queues);
	F(abuse_dev_info, timeout);
	F(abuse_dev_info, io_timeout);
	F(abuse_dev_info, state);
	F(abuse_dev_info, nr_servers);
	F(abuse_dev_info, queued);
	F(abuse_dev_info, inflight);
	F(abuse_dev_info, held);
	F(abuse_dev_info, server_pid);
	F(abuse_dev_info, errors);
	F(abuse_dev_info, timeouts);
	F(abuse_dev_info, reserved);
	S(abuse_backing);
	F(abuse_backing, index);
	F(abuse_backing, reserved);
	F(abuse_backing, text);
	S(abuse_request);
	F(abuse_request, tag);
	F(abuse_request, op);
	F(abuse_request, seq);
	F(abuse_request, offset);
	F(abuse_request, len);
	F(abuse_request, flags);
	F(abuse_request, data_offset);
	F(abuse_request, reserved);
	S(abuse_completion);
	F(abuse_completion, tag);
	F(abuse_completion, result);
	F(abuse_completion, seq);
	F(abuse_completion, addr);
	F(abuse_completion, len);
	F(abuse_completion, reserved);
	S(abuse_xfer);
	F(abuse_xfer, cmpl_addr);
	F(abuse_xfer, cmpl_count);
	F(abuse_xfer, req_count);
	F(abuse_xfer, req_addr);
	F(abuse_xfer, data_addr);
	F(abuse_xfer, data_len);
	F(abuse_xfer, cmpl_done);
	F(abuse_xfer, cmpl_errors);
	F(abuse_xfer, reserved0);
	F(abuse_xfer, reserved1);
	I(ABUSE_CTL_ADD);
	I(ABUSE_CTL_REMOVE);
	I(ABUSE_CTL_GET_STATUS);
	I(ABUSE_CTL_RESET);
	I(ABUSE_CTL_SET_BACKING);
	I(ABUSE_GET_FEATURES);
	I(ABUSE_CTL_START);
	I(ABUSE_CTL_NEXT);
	I(ABUSE_CTL_GET_BACKING);
	I(ABUSE_ATTACH);
	I(ABUSE_COMMIT_AND_FETCH);
	C(ABUSE_FEAT_SEQ_HANDLES);
	C(ABUSE_FEAT_START);
	C(ABUSE_FEAT_IO_TIMEOUT);
	C(ABUSE_FEAT_RECOVERY);
	C(ABUSE_FEAT_NEXT);
	C(ABUSE_FLAG_READ_ONLY);
	C(ABUSE_FLAG_NO_PARTSCAN);
	C(ABUSE_FLAG_SET_TIMEOUT);
	C(ABUSE_FLAG_SET_IO_TIMEOUT);
	C(ABUSE_FLAG_RECOVERY_FAIL);
	C(ABUSE_STATE_ADDED);
	C(ABUSE_STATE_LIVE);
	C(ABUSE_STATE_DEAD);
	C(ABUSE_OP_READ);
	C(ABUSE_OP_WRITE);
	C(ABUSE_OP_FLUSH);
	C(ABUSE_OP_DISCARD);
	C(ABUSE_OP_WRITE_ZEROES);
	C(ABUSE_REQ_FUA);
	C(ABUSE_REQ_NOUNMAP);
	C(ABUSE_MAX_QUEUE_DEPTH);
	C(ABUSE_MAX_HW_QUEUES);
	C(ABUSE_MIN_REQ_BYTES);
	C(ABUSE_MAX_REQ_BYTES);
	C(ABUSE_MAX_BATCH);
	C(ABUSE_BACKING_LEN);
	return 0;
}
