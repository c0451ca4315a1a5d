/* The event writer on its own: generic slots, notes, status, outcome, related.*, times. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <string.h>

#include "event/event.h"
#include "json_buf.h"
#include "netlist.h"
#include "testutil.h"

static const struct proto_ops plain_ops = { .name = "test", .id = PROTO_HTTP };
static const struct proto_ops noted_ops = { .name = "test",
					    .id = PROTO_HTTP,
					    .note_unanswered = "no answer",
					    .note_unmatched = "no question" };

/* The event of req/resp on f, parsed back. */
static json_t *write_with(struct event_writer *ew, const struct proto_ops *ops, const struct flow *f,
			  const struct msg *req, const struct msg *resp)
{
	struct proto_cfg pc = { .ops = ops };
	struct json_buf b = { 0 };
	json_error_t err;
	json_t *ev;

	cr_assert_eq(event_write(ew, &b, &pc, f, req, resp), 0);
	ev = json_loads(b.p, JSON_REJECT_DUPLICATES, &err);
	cr_assert_not_null(ev, "%s: %s", err.text, b.p);
	json_buf_free(&b);
	return ev;
}

/* A TCP flow client:40000 -> server:80 between two textual addresses. */
static struct flow flow_between(const char *client, const char *server)
{
	struct flow f = { .client_port = 40000, .server_port = 80, .transport = IPPROTO_TCP };

	f.client_ip.family = strchr(client, ':') ? 6 : 4;
	f.server_ip.family = strchr(server, ':') ? 6 : 4;
	cr_assert_eq(inet_pton(f.client_ip.family == 6 ? AF_INET6 : AF_INET, client, f.client_ip.a), 1);
	cr_assert_eq(inet_pton(f.server_ip.family == 6 ? AF_INET6 : AF_INET, server, f.server_ip.a), 1);
	return f;
}

static json_t *write_event(const struct proto_ops *ops, const struct msg *req, const struct msg *resp)
{
	struct flow f = flow_between("0.0.0.1", "0.0.0.2");
	struct event_writer *ew = event_writer_new();
	json_t *ev = write_with(ew, ops, &f, req, resp);

	event_writer_free(ew);
	return ev;
}

static const char *str_at(json_t *ev, const char *a, const char *b)
{
	json_t *v = json_object_get(ev, a);

	return json_string_value(b ? json_object_get(v, b) : v);
}

Test(event, slots_of_the_request_and_the_response)
{
	struct msg req = { .ts = 1000000000, .bytes = 3 }, resp = { .ts = 1002000000, .bytes = 4 };
	json_t *ev;

	msg_text_set(&req.method, "GET", 3);
	msg_text_set(&req.query, "GET /", 5);
	msg_text_set(&req.domain, "example.com", 11);
	msg_text_set(&req.forwarded_ip, "10.1.1.1", 8);
	msg_text_set(&resp.action, "test.get", 8); /* the request has none: the response's */
	msg_text_set(&resp.method, "PUT", 3); /* the request has one: it wins */
	resp.status = MSG_SERVER_ERROR;
	ev = write_event(&plain_ops, &req, &resp);
	cr_assert_str_eq(str_at(ev, "method", NULL), "GET");
	cr_assert_str_eq(str_at(ev, "query", NULL), "GET /");
	cr_assert_null(json_object_get(ev, "resource"), "unset slots are left out");
	cr_assert_str_eq(str_at(ev, "destination", "domain"), "example.com");
	cr_assert_null(json_object_get(json_object_get(ev, "source"), "domain"));
	cr_assert_str_eq(str_at(ev, "network", "forwarded_ip"), "10.1.1.1");
	cr_assert_str_eq(str_at(ev, "event", "action"), "test.get");
	cr_assert_str_eq(str_at(ev, "status", NULL), "Server Error");
	cr_assert_str_eq(str_at(ev, "event", "outcome"), "failure");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(ev, "event"), "duration")), 2000000);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(ev, "network"), "bytes")), 7);
	cr_assert_null(json_object_get(ev, "error"));
	json_decref(ev);
}

Test(event, slot_bytes_are_made_valid_utf8)
{
	struct msg req = { .ts = 1 };
	json_t *ev;

	msg_text_set(&req.resource, "a\xff\"b", 4);
	ev = write_event(&plain_ops, &req, NULL);
	cr_assert_str_eq(str_at(ev, "resource", NULL), "a\\xff\"b");
	json_decref(ev);
}

Test(event, one_note_is_a_string_several_an_array)
{
	struct msg req = { .ts = 1 }, resp = { .ts = 2 };
	json_t *ev, *a;

	msg_note(&req, "first");
	ev = write_event(&plain_ops, &req, &resp);
	cr_assert_str_eq(str_at(ev, "error", "message"), "first");
	json_decref(ev);
	msg_note(&req, "second");
	ev = write_event(&plain_ops, &req, &resp);
	a = json_object_get(json_object_get(ev, "error"), "message");
	cr_assert_eq(json_array_size(a), 2);
	cr_assert_str_eq(json_string_value(json_array_get(a, 1)), "second");
	json_decref(ev);
	msg_note(&resp, "the response's");
	ev = write_event(&plain_ops, &req, &resp);
	cr_assert_str_eq(str_at(ev, "error", "message"), "the response's", "a response's notes replace the request's");
	json_decref(ev);
}

Test(event, protocol_notes_for_unanswered_and_unmatched)
{
	struct msg req = { .ts = 1 }, resp = { .ts = 2 }, quiet = { .ts = 1, .noreply = true };
	json_t *ev;

	ev = write_event(&noted_ops, &req, NULL);
	cr_assert_str_eq(str_at(ev, "error", "message"), "no answer");
	cr_assert_str_eq(str_at(ev, "status", NULL), "Error");
	cr_assert_str_eq(str_at(ev, "event", "outcome"), "unknown");
	json_decref(ev);
	ev = write_event(&noted_ops, &quiet, NULL);
	cr_assert_null(json_object_get(ev, "error"), "a request that gets no response is not unanswered");
	cr_assert_str_eq(str_at(ev, "status", NULL), "OK");
	json_decref(ev);
	req.placeholder = true;
	resp.status = MSG_ERROR;
	ev = write_event(&noted_ops, &req, &resp);
	cr_assert_str_eq(str_at(ev, "error", "message"), "no question");
	cr_assert_null(json_object_get(json_object_get(ev, "event"), "duration"));
	json_decref(ev);
	ev = write_event(&plain_ops, &req, &resp);
	cr_assert_null(json_object_get(ev, "error"));
	json_decref(ev);
}

Test(event, protocol_status_of_unanswered_and_a_request_that_says_why)
{
	static const struct proto_ops ops = {
		.name = "test", .id = PROTO_HTTP, .note_unanswered = "no answer", .unanswered_status = MSG_SERVER_ERROR
	};
	struct msg req = { .ts = 1 }, resp = { .ts = 2 };
	json_t *ev;

	ev = write_event(&ops, &req, NULL);
	cr_assert_str_eq(str_at(ev, "status", NULL), "Server Error");
	cr_assert_str_eq(str_at(ev, "error", "message"), "no answer");
	json_decref(ev);
	msg_note(&req, "closed early");
	req.noted = true;
	ev = write_event(&ops, &req, NULL);
	cr_assert_str_eq(str_at(ev, "error", "message"), "closed early", "its own note instead of the protocol's");
	json_decref(ev);
	ev = write_event(&ops, &req, &resp);
	cr_assert_str_eq(str_at(ev, "status", NULL), "OK", "the status of a response is its own");
	json_decref(ev);
}

Test(event, related_ip_and_zero_bytes_left_out)
{
	struct msg req = { .ts = 1, .bytes = 5 };
	json_t *ev = write_event(&plain_ops, &req, NULL), *ips;

	ips = json_object_get(json_object_get(ev, "related"), "ip");
	cr_assert_eq(json_array_size(ips), 2);
	cr_assert_str_eq(json_string_value(json_array_get(ips, 0)), "0.0.0.1");
	cr_assert_str_eq(json_string_value(json_array_get(ips, 1)), "0.0.0.2");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(ev, "source"), "bytes")), 5);
	cr_assert_null(json_object_get(json_object_get(ev, "destination"), "bytes"), "no response: no zero bytes");
	cr_assert_null(json_object_get(json_object_get(ev, "server"), "bytes"));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(ev, "destination"), "port")), 80);
	json_decref(ev);
}

Test(event, agent_fragment_is_appended)
{
	static const char frag[] = ",\"agent\":{\"type\":\"packetbeat\"}";
	struct proto_cfg pc = { .ops = &plain_ops };
	struct flow f = { .client_port = 1, .server_port = 2, .transport = IPPROTO_UDP };
	struct msg req = { .ts = 1 };
	struct event_writer *ew = event_writer_new();
	struct json_buf b = { 0 };
	json_t *ev;

	f.client_ip.family = f.server_ip.family = 4; /* the same address: related.ip holds it once */
	event_writer_set_agent(ew, frag, sizeof(frag) - 1);
	cr_assert_eq(event_write(ew, &b, &pc, &f, &req, NULL), 0);
	ev = json_loads(b.p, JSON_REJECT_DUPLICATES, NULL);
	cr_assert_not_null(ev, "%s", b.p);
	cr_assert_str_eq(str_at(ev, "agent", "type"), "packetbeat");
	cr_assert_eq(json_array_size(json_object_get(json_object_get(ev, "related"), "ip")), 1);
	json_decref(ev);
	json_buf_free(&b);
	event_writer_free(ew);
}

static json_t *arr_at(json_t *ev, const char *a, const char *b)
{
	return json_object_get(json_object_get(ev, a), b);
}

Test(event, network_direction_always_written)
{
	struct event_writer *ew = event_writer_new();
	struct netlist *internal = netlist_new();
	struct flow lo = flow_between("127.0.0.1", "127.0.0.1"), out = flow_between("10.213.77.41", "203.0.113.9");
	struct msg req = { .ts = 1 };
	json_t *ev;

	ev = write_with(ew, &plain_ops, &lo, &req, NULL);
	cr_assert_str_eq(str_at(ev, "network", "direction"), "ingress", "loopback is the host's");
	json_decref(ev);
	ev = write_with(ew, &plain_ops, &out, &req, NULL);
	cr_assert_str_eq(str_at(ev, "network", "direction"), "unknown", "no internal_networks: no perimeter");
	json_decref(ev);
	cr_assert_eq(netlist_add(internal, "private"), 0);
	event_writer_set_networks(ew, internal); /* the flow's cached direction is recomputed */
	ev = write_with(ew, &plain_ops, &out, &req, NULL);
	cr_assert_str_eq(str_at(ev, "network", "direction"), "outbound");
	json_decref(ev);
	event_writer_set_networks(ew, NULL);
	ev = write_with(ew, &plain_ops, &out, &req, NULL);
	cr_assert_str_eq(str_at(ev, "network", "direction"), "unknown");
	json_decref(ev);
	netlist_free(internal);
	event_writer_free(ew);
}

Test(event, related_hosts_user_and_the_extra_addresses)
{
	struct msg req = { .ts = 1 }, resp = { .ts = 2 };
	json_t *ev;

	msg_text_set(&req.domain, "example.com", 11);
	msg_text_set(&req.related_host, "http://ref.example/a", 20);
	msg_text_set(&req.user, "alice", 5);
	msg_text_set(&req.related_ip, "::2", 3);
	msg_text_set(&resp.forwarded_ip, "0:0::2", 6); /* the same address written otherwise: once */
	ev = write_event(&plain_ops, &req, &resp);
	cr_assert_str_eq(json_joined(arr_at(ev, "related", "ip")), "0.0.0.1,0.0.0.2,::2");
	json_decref(ev);
	msg_text_set(&req.forwarded_ip, "0.0.0.1", 7); /* an end of the flow: once */
	ev = write_event(&plain_ops, &req, &resp);
	cr_assert_str_eq(json_joined(arr_at(ev, "related", "ip")), "0.0.0.1,0.0.0.2,::2");
	cr_assert_str_eq(json_joined(arr_at(ev, "related", "hosts")), "example.com,http://ref.example/a");
	cr_assert_str_eq(json_joined(arr_at(ev, "related", "user")), "alice");
	cr_assert_str_eq(str_at(ev, "user", "name"), "alice");
	cr_assert_str_eq(str_at(ev, "server", "domain"), "example.com", "server is destination's copy, as Packetbeat");
	cr_assert_str_eq(str_at(ev, "destination", "domain"), "example.com");
	cr_assert_null(arr_at(ev, "client", "domain"));
	json_decref(ev);
}

Test(event, related_lists_left_out_when_empty_and_no_address_that_is_not_one)
{
	struct msg req = { .ts = 1 };
	json_t *ev;

	msg_text_set(&req.forwarded_ip, "unknown, 10.0.0.1", 17);
	msg_text_set(&req.domain, "example.com", 11);
	msg_text_set(&req.related_host, "example.com", 11);
	ev = write_event(&plain_ops, &req, NULL);
	cr_assert_str_eq(json_joined(arr_at(ev, "related", "ip")), "0.0.0.1,0.0.0.2", "ES types related.ip as ip");
	cr_assert_str_eq(str_at(ev, "network", "forwarded_ip"), "unknown, 10.0.0.1");
	cr_assert_str_eq(json_joined(arr_at(ev, "related", "hosts")), "example.com", "each host once");
	cr_assert_null(arr_at(ev, "related", "user"));
	cr_assert_null(json_object_get(ev, "user"));
	json_decref(ev);
	ev = write_event(&plain_ops, &(struct msg){ .ts = 1 }, NULL);
	cr_assert_null(arr_at(ev, "related", "hosts"));
	cr_assert_null(arr_at(ev, "server", "domain"));
	json_decref(ev);
}

Test(event, end_is_the_first_response_packet_with_capture_precision)
{
	const uint64_t s = 1764700000ull * 1000000000ull;
	struct msg req = { .ts = s + 1000 }, resp = { .ts = s + 2500000, .ts_end = s + 9000000 };
	json_t *ev = write_event(&plain_ops, &req, &resp);

	cr_assert_str_eq(str_at(ev, "event", "start"), "2025-12-02T18:26:40.000001Z");
	cr_assert_str_eq(str_at(ev, "event", "end"), "2025-12-02T18:26:40.002500Z", "the response's first packet");
	cr_assert_eq(json_integer_value(arr_at(ev, "event", "duration")), 2499000);
	cr_assert_str_eq(str_at(ev, "@timestamp", NULL), "2025-12-02T18:26:40.000Z", "@timestamp stays milliseconds");
	json_decref(ev);
}
