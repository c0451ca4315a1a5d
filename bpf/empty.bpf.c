// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Baseline for bench/bpf_cost.c: an XDP program that does nothing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC, as xdpbeat_tc */
}
