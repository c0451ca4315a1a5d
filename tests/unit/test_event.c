/* The event writer on its own: generic slots, notes, status, outcome. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <string.h>

#include "event/event.h"
#include "json_buf.h"

static const struct proto_ops plain_ops = { .name = "test", .id = PROTO_HTTP };
static const struct proto_ops noted_ops = { .name = "test",
					    .id = PROTO_HTTP,
					    .note_unanswered = "no answer",
					    .note_unmatched = "no question" };

static json_t *write_event(const struct proto_ops *ops, const struct msg *req, const struct msg *resp)
{
	struct proto_cfg pc = { .ops = ops };
	struct flow f = { .client_port = 40000, .server_port = 80, .transport = IPPROTO_TCP };
	struct event_writer *ew = event_writer_new();
	struct json_buf b = { 0 };
	json_error_t err;
	json_t *ev;

	f.client_ip.family = f.server_ip.family = 4;
	f.client_ip.a[3] = 1;
	f.server_ip.a[3] = 2;
	cr_assert_eq(event_write(ew, &b, &pc, &f, req, resp), 0);
	ev = json_loads(b.p, JSON_REJECT_DUPLICATES, &err);
	cr_assert_not_null(ev, "%s: %s", err.text, b.p);
	json_buf_free(&b);
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
