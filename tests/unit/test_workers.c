/*
 * Workers' pipelines count their TCP connections together: one
 * xdpbeat.tcp.max_connections for the process, whichever worker a flow
 * hashes to.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "testutil.h"

#define EXTRA "xdpbeat.tcp.max_connections: 2\n"

/* One connection with a request on tp's pipeline. */
static void open_one(struct tp *tp)
{
	tp_handshake(tp);
	tp_tcp_str(tp, 0, "GET / HTTP/1.1\r\n\r\n");
}

Test(workers, max_connections_is_one_count_over_the_pipelines)
{
	_Atomic size_t conns = 0;
	struct tp *tp[3];

	for (int i = 0; i < 3; i++) {
		tp[i] = tp_proto("http", 8080, EXTRA);
		pipeline_share_conns(tp[i]->pl, &conns);
	}
	open_one(tp[0]);
	open_one(tp[1]);
	cr_assert_eq(atomic_load(&conns), 2);
	open_one(tp[2]);
	cr_assert_geq(stats_get(&tp[2]->st, STAT_DROP_CONN_LIMIT), 1, "the third, on another pipeline, is refused");
	cr_assert_eq(stats_get(&tp[2]->st, STAT_TCP_CONNS), 0);
	cr_assert_eq(atomic_load(&conns), 2);

	tp_flush(tp[0]); /* closes its connection: a slot for the others */
	cr_assert_eq(atomic_load(&conns), 1);
	tp_tcp_str(tp[2], 0, "GET /again HTTP/1.1\r\n\r\n");
	cr_assert_eq(stats_get(&tp[2]->st, STAT_TCP_CONNS), 1);
	cr_assert_eq(atomic_load(&conns), 2);
	for (int i = 0; i < 3; i++)
		tp_free(tp[i]);
	cr_assert_eq(atomic_load(&conns), 0, "every connection gave its slot back");
}
