/*
 * HTTP parser tests through the real pipeline (TCP tracker, correlator,
 * event builder): messages are fed as TCP segments and the published
 * events are checked.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_url.h"
#include "proto.h"
#include "testutil.h"

#define C2S 0
#define S2C 1
#define PORT 8080

static struct tp *http_tp(const char *opts)
{
	return tp_proto("http", PORT, opts);
}

static void send_str(struct tp *tp, int dir, const char *s)
{
	tp_tcp(tp, dir, XB_TCP_PSH, s, strlen(s));
}

static uint64_t pstat(struct tp *tp, enum pstat_id id)
{
	return tp->st.proto[PROTO_HTTP][id];
}

static const char *get_str(struct tp *tp, size_t i, const char *path)
{
	const char *s = json_string_value(tp_get(tp, i, path));

	return s ? s : "(null)";
}

/* Events of one exchange with the request and response each cut into two segments at ri / si (0 = whole). */
static char *exchange(const char *opts, const char *req, size_t ri, const char *resp, size_t si)
{
	struct tp *tp = http_tp(opts);
	const char *msgs[2] = { req, resp };
	size_t cuts[2] = { ri, si };
	char *out;

	tp_handshake(tp);
	for (int dir = 0; dir < 2; dir++) {
		size_t len = strlen(msgs[dir]);

		if (cuts[dir] == 0) {
			tp_tcp(tp, dir, XB_TCP_PSH, msgs[dir], len);
			continue;
		}
		tp_tcp(tp, dir, 0, msgs[dir], cuts[dir]);
		tp->ts -= 1000000; /* both halves carry the same time: the event must not change */
		tp_tcp(tp, dir, XB_TCP_PSH, msgs[dir] + cuts[dir], len - cuts[dir]);
	}
	tp_flush(tp);
	cr_assert_eq(pstat(tp, PSTAT_PARSE_ERRORS), 0);
	out = tp_dump(tp);
	tp_free(tp);
	return out;
}

static void check_all_splits(const char *opts, const char *req, const char *resp)
{
	char *ref = exchange(opts, req, 0, resp, 0);

	cr_assert(strstr(ref, "\"http\""), "no http event: %s", ref);
	for (size_t i = 1; i < strlen(req); i++) {
		char *got = exchange(opts, req, i, resp, 0);

		cr_assert_str_eq(got, ref, "request split at %zu", i);
		free(got);
	}
	for (size_t i = 1; i < strlen(resp); i++) {
		char *got = exchange(opts, req, 0, resp, i);

		cr_assert_str_eq(got, ref, "response split at %zu", i);
		free(got);
	}
	free(ref);
}

Test(http, split_every_byte_content_length)
{
	check_all_splits("    send_request: true\n    send_response: true\n    send_all_headers: true\n",
			 "GET /index.html?b=2&a=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\n"
			 "Accept: */*\r\n\r\n",
			 "HTTP/1.1 200 OK\r\nServer: test\r\nContent-Type: text/html\r\nContent-Length: 15\r\n\r\n"
			 "<html>hi</html>");
}

Test(http, split_every_byte_chunked_post)
{
	check_all_splits("    include_body_for: [text/plain]\n",
			 "POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 11\r\n\r\nhello world",
			 "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
			 "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n");
}

Test(http, fields_like_packetbeat)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S,
		 "GET /a%20b/file.txt?q=x+y&a=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: test/1.0\r\n"
		 "Referer: http://example.com/\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nno\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "type"), "http");
	cr_assert_str_eq(get_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(get_str(tp, 0, "method"), "GET");
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/a b/file.txt");
	cr_assert_str_eq(get_str(tp, 0, "query"), "GET /a b/file.txt");
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/a b/file.txt");
	cr_assert_str_eq(get_str(tp, 0, "url.query"), "a=1&q=x+y");
	cr_assert_str_eq(get_str(tp, 0, "url.domain"), "example.com");
	cr_assert_eq(tp_int(tp, 0, "url.port"), 8080);
	cr_assert_str_eq(get_str(tp, 0, "url.scheme"), "http");
	cr_assert_str_eq(get_str(tp, 0, "url.extension"), "txt");
	cr_assert_str_eq(get_str(tp, 0, "url.full"), "http://example.com:8080/a%20b/file.txt?a=1&q=x+y");
	cr_assert_str_eq(get_str(tp, 0, "user_agent.original"), "test/1.0");
	cr_assert_str_eq(get_str(tp, 0, "http.version"), "1.1");
	cr_assert_str_eq(get_str(tp, 0, "http.request.method"), "GET");
	cr_assert_str_eq(get_str(tp, 0, "http.request.referrer"), "http://example.com/");
	cr_assert_null(tp_get(tp, 0, "http.request.body"), "no body: no body.bytes (Packetbeat leaves zero out)");
	cr_assert_eq(tp_int(tp, 0, "http.request.headers.content-length"), 0);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 404);
	cr_assert_str_eq(get_str(tp, 0, "http.response.status_phrase"), "not found");
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 3);
	cr_assert_eq(tp_int(tp, 0, "http.response.bytes"), 74);
	cr_assert_str_eq(get_str(tp, 0, "http.response.headers.content-type"), "text/plain");
	cr_assert_str_eq(get_str(tp, 0, "destination.domain"), "example.com");
	cr_assert_null(tp_get(tp, 0, "request"));
	cr_assert_null(tp_get(tp, 0, "http.response.body.content"));
	tp_free(tp);
}

Test(http, event_ends_at_the_first_response_packet)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET / HTTP/1.1\r\nHo");
	send_str(tp, C2S, "st: x\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
	send_str(tp, S2C, "cd");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	/* start = first request packet, end = first response packet (as Packetbeat): 2 packets later, 1 ms each */
	cr_assert_eq(tp_int(tp, 0, "event.duration"), 2000000);
	tp_free(tp);
}

Test(http, pipelined_three_requests)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S,
		 "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
		 "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz");
	send_str(tp, S2C,
		 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nBB"
		 "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/a");
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/b");
	cr_assert_str_eq(get_str(tp, 2, "url.path"), "/c");
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 200);
	cr_assert_eq(tp_int(tp, 1, "http.response.status_code"), 404);
	cr_assert_eq(tp_int(tp, 2, "http.response.status_code"), 500);
	cr_assert_eq(tp_int(tp, 2, "http.request.body.bytes"), 3);
	cr_assert_str_eq(get_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(get_str(tp, 2, "status"), "Error");
	tp_free(tp);
}

Test(http, chunked_with_extensions_and_trailers)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
				   "a;name=\"v\"\r\n0123456789\r\n3\r\nabc\r\n0\r\nExpires: never\r\nX-T: 1\r\n\r\n";
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(tp, S2C, resp);
	send_str(tp, C2S, "GET /d HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 13);
	cr_assert_eq(tp_int(tp, 0, "http.response.bytes"), (long long)strlen(resp));
	cr_assert_eq(tp_int(tp, 0, "http.response.headers.content-length"), 13);
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/d");
	tp_free(tp);
}

Test(http, body_until_close)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /old HTTP/1.0\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part ");
	send_str(tp, S2C, "second part");
	cr_assert_eq(tp_count(tp), 0);
	tp_tcp(tp, S2C, XB_TCP_FIN, NULL, 0);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 22);
	cr_assert_str_eq(get_str(tp, 0, "http.version"), "1.0");
	tp_free(tp);
}

Test(http, head_response_has_no_body)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
	send_str(tp, C2S, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(get_str(tp, 0, "method"), "HEAD");
	cr_assert_null(tp_get(tp, 0, "http.response.body"), "HEAD: no body.bytes");
	cr_assert_eq(tp_int(tp, 0, "http.response.headers.content-length"), 100000);
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/next");
	cr_assert_eq(tp_int(tp, 1, "http.response.body.bytes"), 2);
	tp_free(tp);
}

Test(http, not_modified_and_no_content)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /a HTTP/1.1\r\nIf-None-Match: \"x\"\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 50\r\n\r\n");
	send_str(tp, C2S, "DELETE /b HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 204 No Content\r\n\r\n");
	send_str(tp, C2S, "GET /c HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 304);
	cr_assert_str_eq(get_str(tp, 0, "http.response.status_phrase"), "not modified");
	cr_assert_eq(tp_int(tp, 1, "http.response.status_code"), 204);
	cr_assert_str_eq(get_str(tp, 2, "url.path"), "/c");
	tp_free(tp);
}

Test(http, expect_100_continue)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 100 Continue\r\n\r\n");
	send_str(tp, C2S, "12345");
	send_str(tp, S2C, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 201);
	cr_assert_eq(tp_int(tp, 0, "http.request.body.bytes"), 5);
	cr_assert_eq(pstat(tp, PSTAT_UNMATCHED), 0);
	tp_free(tp);
}

Test(http, too_large_body_is_skipped_not_buffered)
{
	struct tp *tp = http_tp("    max_message_size: 1000\n    include_body_for: [text/plain]\n"
				"    send_response: true\n");
	char chunk[1000];

	memset(chunk, 'z', sizeof(chunk));
	tp_handshake(tp);
	send_str(tp, C2S, "GET /big HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n");
	for (int i = 0; i < 5; i++)
		tp_tcp(tp, S2C, 0, chunk, sizeof(chunk));
	send_str(tp, C2S, "GET /after HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(pstat(tp, PSTAT_TOO_LARGE), 1);
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 5000);
	cr_assert_leq(strlen(get_str(tp, 0, "response")), 1000);
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/after");
	tp_free(tp);
}

/* Packetbeat publishes a message over max_message_size with its body cut, not without it. */
Test(http, over_max_message_size_keeps_the_cut_body)
{
	static const char req_head[] = "POST /up HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 3000\r\n\r\n";
	static const char resp_head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct tp *tp = http_tp("    max_message_size: 1000\n    include_body_for: [text/plain]\n"
				"    send_request: true\n    send_response: true\n");
	char body[3000], want[1000];
	size_t keep_req = 1000 - strlen(req_head), keep_resp = 1000 - strlen(resp_head);

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)('a' + i % 26);
	tp_handshake(tp);
	send_str(tp, C2S, req_head);
	tp_tcp(tp, C2S, 0, body, sizeof(body));
	send_str(tp, S2C, resp_head);
	for (int i = 0; i < 3; i++) {
		send_str(tp, S2C, "3e8\r\n");
		tp_tcp(tp, S2C, 0, body + i * 1000, 1000);
		send_str(tp, S2C, "\r\n");
	}
	send_str(tp, S2C, "0\r\n\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(pstat(tp, PSTAT_TOO_LARGE), 2);
	cr_assert_str_eq(get_str(tp, 0, "status"), "OK");
	cr_assert_null(tp_get(tp, 0, "error"));
	cr_assert_eq(tp_int(tp, 0, "http.request.body.bytes"), 3000, "the size is the whole body's");
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 3000);
	memcpy(want, body, keep_req);
	want[keep_req] = '\0';
	cr_assert_str_eq(get_str(tp, 0, "http.request.body.content"), want, "cut at max_message_size");
	memcpy(want, body, keep_resp);
	want[keep_resp] = '\0';
	cr_assert_str_eq(get_str(tp, 0, "http.response.body.content"), want);
	cr_assert_eq(strlen(get_str(tp, 0, "request")), 1000, "the raw message: head and the cut body");
	cr_assert_eq(strlen(get_str(tp, 0, "response")), 1000);
	tp_free(tp);
}

Test(http, headers_cookies_and_redaction)
{
	struct tp *tp = http_tp("    send_headers: [X-Custom, Cookie, Authorization, X-Secret]\n"
				"    split_cookie: true\n    redact_authorization: true\n"
				"    redact_headers: [x-secret]\n    send_request: true\n");

	tp_handshake(tp);
	send_str(tp, C2S,
		 "GET / HTTP/1.1\r\nX-Custom: one\r\nX-Custom: two\r\nCookie: a=1; B=\"2\"\r\n"
		 "Authorization: Basic dXNlcjpwYXNz\r\nX-Secret: s3cr3t\r\nX-Other: no\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.x-custom"), "one, two");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.cookie.a"), "1");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.cookie.b"), "2");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.authorization"), "*");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.x-secret"), "REDACTED");
	cr_assert_null(tp_get(tp, 0, "http.request.headers.x-other"));
	cr_assert_null(tp_get(tp, 0, "user.name"));
	cr_assert(strstr(get_str(tp, 0, "request"), "Authorization:*******************\r\n"), "%s",
		  get_str(tp, 0, "request"));
	cr_assert_null(strstr(get_str(tp, 0, "request"), "dXNlcjpwYXNz"));
	tp_free(tp);
}

Test(http, basic_auth_user_without_redaction)
{
	struct tp *tp = http_tp("    send_all_headers: true\n");

	tp_handshake(tp);
	send_str(tp, C2S, "GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\nX-Folded: a\r\n  b\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nSet-Cookie: x=1\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "user.name"), "user");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.x-folded"), "a    b");
	cr_assert_str_eq(get_str(tp, 0, "http.response.headers.set-cookie"), "x=1");
	tp_free(tp);
}

Test(http, related_hosts_user_and_server_domain_as_packetbeat)
{
	struct tp *tp = http_tp("    send_all_headers: true\n    real_ip_header: X-Forwarded-For\n");

	tp_handshake(tp);
	send_str(tp, C2S,
		 "GET / HTTP/1.1\r\nHost: www.example.com\r\nReferer: http://ref.example/p\r\n"
		 "Authorization: Basic dXNlcjpwYXNz\r\nX-Forwarded-For: 192.0.2.9, 10.0.0.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(tp, C2S, "GET / HTTP/1.1\r\nHost: [2001:db8::5]:80\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(json_joined(tp_get(tp, 0, "related.hosts")), "www.example.com,http://ref.example/p");
	cr_assert_str_eq(json_joined(tp_get(tp, 0, "related.user")), "user");
	cr_assert_str_eq(json_joined(tp_get(tp, 0, "related.ip")), "10.0.0.1,10.0.0.2,192.0.2.9");
	cr_assert_str_eq(get_str(tp, 0, "server.domain"), "www.example.com");
	cr_assert_str_eq(get_str(tp, 0, "user.name"), "user");
	cr_assert_str_eq(json_joined(tp_get(tp, 1, "related.ip")), "10.0.0.1,10.0.0.2,2001:db8::5",
			 "a Host that is an address");
	cr_assert_null(tp_get(tp, 1, "related.hosts"));
	cr_assert_null(tp_get(tp, 1, "server.domain"));
	cr_assert_null(tp_get(tp, 1, "related.user"));
	tp_free(tp);
}

Test(http, network_direction_from_internal_networks)
{
	struct tp *tp = tp_new("xdpbeat.interfaces: {device: lo, internal_networks: [private]}\n"
			       "xdpbeat.protocols:\n  - type: http\n    ports: [80]\noutput.console.enabled: true\n",
			       80);

	static const char reload[] = "xdpbeat.protocols:\n  - type: http\n    ports: [80]\n";
	struct cfg_err err = { 0 };
	struct config *without;

	tp_handshake(tp);
	send_str(tp, C2S, "GET / HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(tp_count(tp), 1);
	/* 10.0.0.1 -> 10.0.0.2, neither this host's: both inside the perimeter */
	cr_assert_str_eq(get_str(tp, 0, "network.direction"), "internal");
	without = config_load_string(reload, sizeof(reload) - 1, "r.yml", NULL, 0, &err);
	cr_assert_not_null(without, "%s", err.msg);
	cr_assert_eq(pipeline_set_config(tp->pl, without), 0); /* a reload without internal_networks */
	send_str(tp, C2S, "GET / HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(get_str(tp, 1, "network.direction"), "unknown");
	tp_free(tp);
	config_free(without);
}

Test(http, hide_keywords_in_query_and_form)
{
	struct tp *tp = http_tp("    hide_keywords: [pass, secret]\n");

	tp_handshake(tp);
	send_str(tp, C2S,
		 "POST /login?secret=abc&user=me HTTP/1.1\r\nHost: h\r\n"
		 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 21\r\n\r\n"
		 "user=bob&pass=hunter2");
	send_str(tp, S2C, "HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "url.query"), "pass=xxxxx&secret=xxxxx&user=bob");
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/login");
	cr_assert_str_eq(get_str(tp, 0, "status"), "OK");
	tp_free(tp);
}

Test(http, real_ip_header)
{
	struct tp *tp = http_tp("    real_ip_header: X-Forwarded-For\n");

	tp_handshake(tp);
	send_str(tp, C2S, "GET / HTTP/1.1\r\nx-forwarded-for: 192.0.2.7, 10.1.1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "network.forwarded_ip"), "192.0.2.7");
	cr_assert_str_eq(get_str(tp, 0, "network.transport"), "tcp");
	tp_free(tp);
}

/* The strings a message keeps end in its header section copy: each where its own value ends, none cut short. */
Test(http, header_strings_end_where_their_values_end)
{
	struct tp *tp = http_tp("    send_all_headers: true\n    real_ip_header: X-Forwarded-For\n");

	tp_handshake(tp);
	send_str(tp, C2S,
		 "GET /p?a=1 HTTP/1.1\r\nHost: example.com:8080 \t\r\nUser-Agent: a\r\n b\r\n"
		 "X-Forwarded-For: 192.0.2.7 , 10.1.1.1\r\nReferer: r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 All  Good \r\nContent-Type: text/plain  \r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "url.domain"), "example.com");
	cr_assert_str_eq(get_str(tp, 0, "url.full"), "http://example.com:8080/p?a=1");
	cr_assert_str_eq(get_str(tp, 0, "query"), "GET /p");
	cr_assert_str_eq(get_str(tp, 0, "user_agent.original"), "a   b");
	cr_assert_str_eq(get_str(tp, 0, "network.forwarded_ip"), "192.0.2.7");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.x-forwarded-for"), "192.0.2.7 , 10.1.1.1");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.host"), "example.com:8080");
	cr_assert_str_eq(get_str(tp, 0, "http.request.referrer"), "r");
	cr_assert_str_eq(get_str(tp, 0, "http.response.status_phrase"), "all  good ");
	cr_assert_str_eq(get_str(tp, 0, "http.response.headers.content-type"), "text/plain");
	tp_free(tp);
}

Test(http, include_body_for)
{
	struct tp *tp = http_tp("    include_body_for: [text/html, application/json]\n");

	tp_handshake(tp);
	send_str(tp, C2S,
		 "POST /api HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n"
		 "{\"a\": 1}\n");
	send_str(tp, S2C,
		 "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 22\r\n\r\n"
		 "<html><p>hi</p></html>");
	send_str(tp, C2S, "GET /img HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\n\x89PNG");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(get_str(tp, 0, "http.request.body.content"), "{\"a\": 1}\n");
	cr_assert_str_eq(get_str(tp, 0, "http.request.mime_type"), "text/plain; charset=utf-8");
	cr_assert_str_eq(get_str(tp, 0, "http.response.body.content"), "<html><p>hi</p></html>");
	cr_assert_str_eq(get_str(tp, 0, "http.response.mime_type"), "text/html; charset=utf-8");
	cr_assert_null(tp_get(tp, 1, "http.response.body.content"));
	cr_assert_eq(tp_int(tp, 1, "http.response.body.bytes"), 4);
	tp_free(tp);
}

Test(http, upgrade_stops_parsing)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
	tp_tcp(tp, C2S, XB_TCP_PSH, "\x81\x85\x00\x00\x00\x00hello", 11);
	tp_tcp(tp, S2C, XB_TCP_PSH, "\x81\x05hello", 7);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 101);
	cr_assert_eq(pstat(tp, PSTAT_PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(http, garbage_is_a_counted_parse_error)
{
	struct tp *tp = http_tp(NULL);
	uint8_t junk[3000];

	srand(7);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand();
	tp_handshake(tp);
	tp_tcp(tp, C2S, XB_TCP_PSH, junk, sizeof(junk));
	tp_tcp(tp, S2C, XB_TCP_PSH, "\x16\x03\x01\x02\x00", 5);
	send_str(tp, C2S, "GET / HTTP/9.9\r\n\r\n");
	send_str(tp, C2S, "GET /bad\r\n\r\n");
	send_str(tp, C2S, "GET / HTTP/1.1\r\nno colon here\r\n\r\n");
	send_str(tp, C2S, "GET / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n");
	/* the stream recovers at the next message boundary */
	send_str(tp, C2S, "GET /ok HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_geq(pstat(tp, PSTAT_PARSE_ERRORS), 6);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/ok");
	tp_free(tp);
}

Test(http, header_section_cap)
{
	struct tp *tp = http_tp(NULL);
	char line[1000];

	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\n';
	tp_handshake(tp);
	send_str(tp, C2S, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 70; i++)
		tp_tcp(tp, C2S, 0, line, sizeof(line));
	/* the head passes 64 KiB in segment 66; each of the 4 header lines after it is no start line: dropped, counted */
	cr_assert_eq(pstat(tp, PSTAT_PARSE_ERRORS), 5);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 0);
	tp_free(tp);
}

Test(http, unmatched_response_is_counted_and_published_as_packetbeat)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(pstat(tp, PSTAT_UNMATCHED), 1);
	cr_assert_str_eq(get_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(get_str(tp, 0, "error.message"), "Unmatched response");
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 200);
	tp_free(tp);
}

Test(http, unanswered_request_note)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(get_str(tp, 0, "error.message"), "Unmatched request");
	tp_free(tp);
}

Test(http, params_encoding)
{
	struct strlist hide = { 0 };
	struct sbuf b = { 0 };
	char *s;

	http_params_to(&b, "b=2&a=%41+1&b=1&bad=%zz&x;y=1&flag", 34, NULL, 0, &hide);
	s = sb_take(&b);
	cr_assert_str_eq(s, "a=A+1&b=2&b=1&flag=");
	free(s);
	http_params_to(&b, "", 0, "k=v%2F&e=%E2%82%AC", 18, &hide);
	s = sb_take(&b);
	cr_assert_str_eq(s, "e=%E2%82%AC&k=v%2F");
	free(s);
}

Test(http, mime_sniffing)
{
	cr_assert_str_eq(http_sniff_mime((const uint8_t *)"  <!DOCTYPE html>", 17), "text/html; charset=utf-8");
	cr_assert_str_eq(http_sniff_mime((const uint8_t *)"<?xml version", 13), "text/xml; charset=utf-8");
	cr_assert_str_eq(http_sniff_mime((const uint8_t *)"%PDF-1.4", 8), "application/pdf");
	cr_assert_str_eq(http_sniff_mime((const uint8_t *)"\x1f\x8b\x08\x00", 4), "application/x-gzip");
	cr_assert_str_eq(http_sniff_mime((const uint8_t *)"{\"a\":1}", 7), "text/plain; charset=utf-8");
	cr_assert_str_eq(http_sniff_mime((const uint8_t *)"\x01\x02", 2), "application/octet-stream");
}

Test(http, gap_in_body_keeps_the_transaction)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n";
	struct tp *tp = http_tp(NULL);
	char body[100];

	memset(body, 'b', sizeof(body));
	tp_handshake(tp);
	send_str(tp, C2S, "GET /lossy HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, head);
	tp_tcp(tp, S2C, 0, body, sizeof(body));
	/* bytes 100..199 of the body never arrive */
	tp_tcp_at(tp, S2C, 0, (uint32_t)strlen(head) + 200, body, sizeof(body));
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 300);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 200);
	cr_assert_str_eq(json_string_value(tp_get(tp, 0, "error.message")), "Packet loss while capturing the response",
			 "one note: a string, as Packetbeat writes it");
	tp_free(tp);
}

Test(http, gap_in_headers_drops_the_message)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /x HTTP/1.1\r\nHo");
	tp_tcp_at(tp, C2S, 0, 40, "st: y\r\n\r\n", 9);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 0);
	cr_assert_eq(tp->st.v[STAT_DROP_GAP], 1);
	tp_free(tp);
}

/* True when s ends with suffix. */
static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* send_request/send_response: the header section, the body only when include_body_for sends it. */
Test(http, raw_message_holds_body_only_when_sent)
{
	struct tp *tp = http_tp("    send_request: true\n    send_response: true\n"
				"    include_body_for: [application/json]\n    hide_keywords: [password]\n");
	static const char form_head[] = "POST /login?password=q1 HTTP/1.1\r\nHost: h\r\n"
					"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 25\r\n\r\n";
	static const char html_head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\n\r\n";
	static const char json_resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
					"{\"a\":1}";
	char req[256], resp[256];

	snprintf(req, sizeof(req), "%suser=bob&password=hunter2", form_head);
	snprintf(resp, sizeof(resp), "%s<html>hi</html>", html_head);
	tp_handshake(tp);
	send_str(tp, C2S, req);
	send_str(tp, S2C, resp);
	send_str(tp, C2S, "GET /data HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, json_resp);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	/* the form's password is hidden in url.query and not sent anywhere else */
	cr_assert_str_eq(get_str(tp, 0, "url.query"), "password=xxxxx&user=bob");
	cr_assert_str_eq(get_str(tp, 0, "request"), form_head);
	cr_assert_str_eq(get_str(tp, 0, "response"), html_head);
	cr_assert_null(tp_get(tp, 0, "http.request.body.content"));
	cr_assert_eq(tp_int(tp, 0, "http.request.body.bytes"), 25);
	cr_assert_str_eq(get_str(tp, 1, "response"), json_resp);
	cr_assert_str_eq(get_str(tp, 1, "http.response.body.content"), "{\"a\":1}");
	tp_free(tp);
}

/* include_request_body_for / include_response_body_for each add the body to their own raw message. */
Test(http, raw_message_follows_direction_lists)
{
	struct tp *tp = http_tp("    send_request: true\n    send_response: true\n"
				"    include_request_body_for: [text/plain]\n"
				"    include_response_body_for: [application/xml]\n");

	tp_handshake(tp);
	send_str(tp, C2S, "PUT /t HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nho");
	send_str(tp, C2S, "PUT /x HTTP/1.1\r\nContent-Type: application/xml\r\nContent-Length: 4\r\n\r\n<a/>");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 4\r\n\r\n<b/>");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert(ends_with(get_str(tp, 0, "request"), "\r\n\r\nhi"), "%s", get_str(tp, 0, "request"));
	cr_assert(ends_with(get_str(tp, 0, "response"), "Content-Length: 2\r\n\r\n"), "%s", get_str(tp, 0, "response"));
	cr_assert(ends_with(get_str(tp, 1, "request"), "Content-Length: 4\r\n\r\n"), "%s", get_str(tp, 1, "request"));
	cr_assert(ends_with(get_str(tp, 1, "response"), "\r\n\r\n<b/>"), "%s", get_str(tp, 1, "response"));
	tp_free(tp);
}

/*
 * Packetbeat puts a form body sent by include_body_for into body.content and
 * the raw request as it was sent; hide_keywords hides parameters in url.query
 * only (its documentation warns that raw fields may hold sensitive data).
 */
Test(http, raw_request_of_sent_form_is_as_packetbeat)
{
	struct tp *tp = http_tp("    send_request: true\n    hide_keywords: [password]\n"
				"    include_body_for: [application/x-www-form-urlencoded]\n");

	tp_handshake(tp);
	send_str(tp, C2S,
		 "POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		 "Content-Length: 14\r\n\r\npassword=s3cr3");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "url.query"), "password=xxxxx");
	cr_assert_str_eq(get_str(tp, 0, "http.request.body.content"), "password=s3cr3");
	cr_assert(ends_with(get_str(tp, 0, "request"), "\r\n\r\npassword=s3cr3"), "%s", get_str(tp, 0, "request"));
	tp_free(tp);
}

/* A compressed body in the raw response is the decoded body.content (Packetbeat decodes before both). */
Test(http, raw_response_body_is_decoded_never_binary)
{
	/* gzip of "hello hello hello\n" */
	static const uint8_t gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
				      0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x90, 0x5c,
				      0x00, 0x3b, 0x7c, 0x8a, 0xdf, 0x12, 0x00, 0x00, 0x00 };
	char head[200];

	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
		 sizeof(gz));
	for (int sent = 0; sent < 2; sent++) {
		struct tp *tp = http_tp(sent ? "    send_response: true\n    include_body_for: [text/plain]\n"
					     : "    send_response: true\n");
		char want[256];

		tp_handshake(tp);
		send_str(tp, C2S, "GET /z HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
		send_str(tp, S2C, head);
		tp_tcp(tp, S2C, XB_TCP_PSH, gz, sizeof(gz));
		tp_flush(tp);
		cr_assert_eq(tp_count(tp), 1);
		snprintf(want, sizeof(want), "%s%s", head, sent ? "hello hello hello\n" : "");
		cr_assert_str_eq(get_str(tp, 0, "response"), want);
		tp_free(tp);
	}
}

static const char *note(struct tp *tp, size_t i)
{
	json_t *v = tp_get(tp, i, "error.message");
	const char *s = json_string_value(json_is_array(v) ? json_array_get(v, 0) : v);

	return s ? s : "(none)";
}

/* The reviewer's lostresp.pcap: 10 bytes of a response's status line lost while /one waits. */
Test(http, gap_in_response_head_gives_up_its_request)
{
	static const char r1[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno1";
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
	tp_tcp(tp, S2C, 0, r1, 10);
	tp->seq[S2C] += 10; /* "04 Not Fou" never arrives */
	tp_tcp(tp, S2C, 0, r1 + 20, strlen(r1) - 20);
	send_str(tp, C2S, "GET /two HTTP/1.1\r\nHost: h\r\n\r\n"); /* acknowledges past the hole */
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok2");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/one");
	cr_assert_null(tp_get(tp, 0, "http.response"));
	cr_assert_str_eq(get_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(note(tp, 0), "Packet loss while capturing the response");
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/two");
	cr_assert_eq(tp_int(tp, 1, "http.response.status_code"), 200);
	cr_assert_null(tp_get(tp, 1, "error"));
	cr_assert_eq(pstat(tp, PSTAT_UNANSWERED), 1);
	cr_assert_eq(pstat(tp, PSTAT_UNMATCHED), 0);
	tp_free(tp);
}

/* A whole response lost between two: the gap starts where a header section would. */
Test(http, gap_of_a_whole_response_gives_up_its_request)
{
	static const char lost[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	tp->seq[S2C] += (uint32_t)strlen(lost); /* /b's response */
	send_str(tp, S2C, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 201);
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/b");
	cr_assert_null(tp_get(tp, 1, "http.response"));
	cr_assert_str_eq(note(tp, 1), "Packet loss while capturing the response");
	cr_assert_str_eq(get_str(tp, 2, "url.path"), "/c");
	cr_assert_eq(tp_int(tp, 2, "http.response.status_code"), 202);
	tp_free(tp);
}

/* Lost bytes run from inside a Content-Length body into the next response's head. */
Test(http, gap_past_body_end_gives_up_the_next_request)
{
	static const char r1[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
	static const char r2[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n");
	tp_tcp(tp, S2C, 0, r1, strlen(r1) - 4);
	tp->seq[S2C] += 4 + 12; /* "6789" and "HTTP/1.1 404" */
	tp_tcp(tp, S2C, 0, r2 + 12, strlen(r2) - 12);
	send_str(tp, C2S, "GET /three HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/one");
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 200);
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 10);
	cr_assert_str_eq(note(tp, 0), "Packet loss while capturing the response");
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/two");
	cr_assert_null(tp_get(tp, 1, "http.response"));
	cr_assert_str_eq(note(tp, 1), "Packet loss while capturing the response");
	cr_assert_str_eq(get_str(tp, 2, "url.path"), "/three");
	cr_assert_eq(tp_int(tp, 2, "http.response.status_code"), 200);
	tp_free(tp);
}

/* Chunk framing lost: the head is known, so the response is kept (with its note) for its request. */
Test(http, gap_in_chunk_framing_keeps_the_response)
{
	static const char r1[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
	size_t cut = strlen(r1) - 15; /* after the first chunk */
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /chunked HTTP/1.1\r\n\r\n");
	tp_tcp(tp, S2C, 0, r1, cut);
	tp->seq[S2C] += 5; /* "5\r\nwo" */
	tp_tcp(tp, S2C, 0, r1 + cut + 5, strlen(r1) - cut - 5);
	send_str(tp, C2S, "GET /next HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 204 No Content\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/chunked");
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 200);
	cr_assert_str_eq(note(tp, 0), "Packet loss while capturing the response");
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/next");
	cr_assert_eq(tp_int(tp, 1, "http.response.status_code"), 204);
	cr_assert_eq(pstat(tp, PSTAT_UNMATCHED), 0);
	tp_free(tp);
}

/* A gap at a response's start with no request waiting gives up nothing. */
Test(http, gap_with_no_request_waiting_publishes_nothing)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /a HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp->seq[S2C] += 7; /* stray server bytes lost */
	send_str(tp, S2C, "junk\r\n");
	send_str(tp, C2S, "GET /b HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/b");
	cr_assert_eq(tp_int(tp, 1, "http.response.status_code"), 200);
	cr_assert_eq(pstat(tp, PSTAT_UNANSWERED), 0);
	tp_free(tp);
}

Test(http, response_before_request_body_ends)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
	send_str(tp, C2S, "abcd");
	send_str(tp, C2S, "GET /next HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 413);
	cr_assert_eq(tp_int(tp, 0, "http.request.body.bytes"), 4);
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/next");
	cr_assert_eq(pstat(tp, PSTAT_UNMATCHED), 0);
	tp_free(tp);
}

Test(http, decode_body_gzip)
{
	/* gzip of "hello hello hello\n" */
	static const uint8_t gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
				      0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x40, 0x90, 0x5c,
				      0x00, 0x3b, 0x7c, 0x8a, 0xdf, 0x12, 0x00, 0x00, 0x00 };
	struct tp *tp = http_tp("    include_body_for: [text/plain]\n");
	char head[200];

	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
		 sizeof(gz));
	tp_handshake(tp);
	send_str(tp, C2S, "GET /z HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");
	send_str(tp, S2C, head);
	tp_tcp(tp, S2C, XB_TCP_PSH, gz, sizeof(gz));
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "http.response.body.content"), "hello hello hello\n");
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 18);
	tp_free(tp);
}

Test(http, connect_tunnel_and_absolute_form)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET http://example.org/x/y.css?v=1 HTTP/1.1\r\nHost: example.org\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(tp, C2S, "OPTIONS * HTTP/1.1\r\nHost: example.org\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(tp, C2S, "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 Connection established\r\n\r\n");
	tp_tcp(tp, C2S, XB_TCP_PSH, "\x16\x03\x01\x00\x05hello", 10);
	tp_tcp(tp, S2C, XB_TCP_PSH, "\x16\x03\x03\x00\x02hi", 7);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/x/y.css");
	cr_assert_str_eq(get_str(tp, 0, "url.full"), "http://example.org:8080/x/y.css?v=1");
	cr_assert_str_eq(get_str(tp, 0, "url.extension"), "css");
	cr_assert_str_eq(get_str(tp, 1, "query"), "OPTIONS *");
	cr_assert_str_eq(get_str(tp, 2, "method"), "CONNECT");
	cr_assert_eq(tp_int(tp, 2, "url.port"), 443);
	cr_assert_eq(pstat(tp, PSTAT_PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(http, transfer_coding_without_chunked_reads_until_close)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET / HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdef");
	tp_tcp(tp, S2C, XB_TCP_FIN, NULL, 0);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 6);
	tp_free(tp);
}

Test(http, invalid_utf8_in_repeated_header)
{
	struct tp *tp = http_tp("    send_all_headers: true\n");

	tp_handshake(tp);
	send_str(tp, C2S, "GET / HTTP/1.1\r\nX-A: one\r\nX-A: t\xb1o\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.x-a"), "one, t\\xb1o");
	tp_free(tp);
}

/* ---- randomized: generated messages, random segments, lost pieces, flipped bytes ---- */

static size_t add_bytes(char *b, size_t len, size_t cap, const char *s, size_t n)
{
	if (len + n < cap) {
		memcpy(b + len, s, n);
		len += n;
	}
	return len;
}

static size_t add_str(char *b, size_t len, size_t cap, const char *s)
{
	return add_bytes(b, len, cap, s, strlen(s));
}

static size_t gen_body(char *b, size_t len, size_t cap, int framing, int blen, unsigned *seed)
{
	char tmp[64];

	if (framing == 0) {
		snprintf(tmp, sizeof(tmp), "Content-Length: %d\r\n\r\n", blen);
		len = add_str(b, len, cap, tmp);
		for (int i = 0; i < blen; i++)
			len = add_bytes(b, len, cap, "password=y&" + i % 11, 1);
		return len;
	}
	if (framing == 1) {
		len = add_str(b, len, cap, "Transfer-Encoding: chunked\r\n\r\n");
		for (int c = rand_r(seed) % 3; c > 0; c--) {
			int n = 1 + rand_r(seed) % 20;

			snprintf(tmp, sizeof(tmp), "%x;e=1\r\n", n);
			len = add_str(b, len, cap, tmp);
			for (int i = 0; i < n; i++)
				len = add_str(b, len, cap, "z");
			len = add_str(b, len, cap, "\r\n");
		}
		return add_str(b, len, cap, rand_r(seed) % 2 ? "0\r\n\r\n" : "0\r\nT: v\r\n\r\n");
	}
	len = add_str(b, len, cap, "\r\n");
	for (int i = 0; framing == 3 && i < blen; i++)
		len = add_str(b, len, cap, "c");
	return len;
}

static size_t gen_msg(char *b, size_t cap, bool req, unsigned *seed)
{
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT", "DELETE", "CONNECT" };
	static const char *const codes[] = { "200 OK",	     "204 No Content", "304 Not Modified", "404 Not Found",
					     "100 Continue", "500 Oops",       "101 Switching" };
	static const char *const hdrs[] = { "Host: example.com:8080\r\n",
					    "Cookie: a=1; b=\"2\"\r\n",
					    "Set-Cookie: s=1\r\n",
					    "Authorization: Basic Zm9vOmJhcg==\r\n",
					    "X-Forwarded-For: 9.9.9.9, 1.1.1.1\r\n",
					    "Content-Type: text/html\r\n",
					    "Content-Type: application/x-www-form-urlencoded\r\n",
					    "Content-Encoding: gzip\r\n",
					    "X-Long: a\r\n\tb\r\n",
					    "Expect: 100-continue\r\n" };
	size_t len = 0;
	char tmp[128];

	if (req)
		snprintf(tmp, sizeof(tmp), "%s /p%d?password=x&a=%%41 HTTP/1.%d\r\n", methods[rand_r(seed) % 6],
			 rand_r(seed) % 9, rand_r(seed) % 2);
	else
		snprintf(tmp, sizeof(tmp), "HTTP/1.%d %s\r\n", rand_r(seed) % 2, codes[rand_r(seed) % 7]);
	len = add_str(b, len, cap, tmp);
	for (int i = rand_r(seed) % 5; i > 0; i--)
		len = add_str(b, len, cap, hdrs[rand_r(seed) % 10]);
	len = gen_body(b, len, cap, rand_r(seed) % 4, rand_r(seed) % 40, seed);
	if (rand_r(seed) % 20 == 0 && len) {
		size_t k = (size_t)rand_r(seed) % len;

		b[k] = (char)(b[k] ^ (1 + rand_r(seed) % 255));
	}
	return len;
}

static void random_run(unsigned *seed)
{
	struct tp *tp = http_tp("    send_request: true\n    send_response: true\n    send_all_headers: true\n"
				"    split_cookie: true\n    include_body_for: [text]\n    hide_keywords: [password]\n"
				"    real_ip_header: x-forwarded-for\n    max_message_size: 100\n");
	char buf[2][4096];
	size_t len[2] = { 0, 0 }, off[2] = { 0, 0 };

	tp_handshake(tp);
	for (int d = 0; d < 2; d++)
		for (int n = 1 + rand_r(seed) % 4; n > 0; n--)
			len[d] += gen_msg(buf[d] + len[d], sizeof(buf[d]) - len[d], d == C2S, seed);
	while (off[0] < len[0] || off[1] < len[1]) {
		int d = rand_r(seed) % 2;
		size_t n;

		if (off[d] >= len[d])
			d = !d;
		n = 1 + (size_t)rand_r(seed) % (len[d] - off[d]);
		if (rand_r(seed) % 25 == 0)
			tp->seq[d] += (uint32_t)n; /* this piece is lost */
		else
			tp_tcp(tp, d, 0, buf[d] + off[d], n);
		off[d] += n;
	}
	if (rand_r(seed) % 2)
		tp_tcp(tp, S2C, XB_TCP_FIN, NULL, 0);
	tp_flush(tp);
	for (size_t i = 0; i < tp_count(tp); i++)
		cr_assert_str_eq(get_str(tp, i, "type"), "http");
	tp_free(tp);
}

Test(http, random_messages_and_segments)
{
	unsigned seed = 2026;

	for (int i = 0; i < 400; i++)
		random_run(&seed);
}

Test(http, repeated_header_join_is_capped)
{
	struct tp *tp = http_tp("    send_all_headers: true\n");
	size_t n = 0, cap = 60000;
	char *req = malloc(cap);
	const char *v;

	tp_handshake(tp);
	n += (size_t)snprintf(req + n, cap - n, "GET / HTTP/1.1\r\nHost: h\r\n");
	while (n + 64 < cap)
		n += (size_t)snprintf(req + n, cap - n, "X-A: 0123456789\r\n");
	n += (size_t)snprintf(req + n, cap - n, "\r\n");
	tp_tcp(tp, C2S, XB_TCP_PSH, req, n);
	send_str(tp, S2C, "HTTP/1.1 204 No Content\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	v = get_str(tp, 0, "http.request.headers.x-a");
	cr_assert(v && strlen(v) <= 8192 && strncmp(v, "0123456789, 0123456789", 22) == 0);
	free(req);
	tp_free(tp);
}

Test(http, split_cookie_keeps_the_last_value_of_a_name)
{
	struct tp *tp = http_tp("    send_headers: [cookie, x-secret]\n    split_cookie: true\n"
				"    redact_headers: [X-SECRET]\n");

	tp_handshake(tp);
	send_str(tp, C2S, "GET / HTTP/1.1\r\nCookie: a=1; A=2; b=\" q \" ;noeq; c=\xff\r\nX-Secret: s\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.cookie.a"), "2");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.cookie.b"), " q ");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.cookie.c"), "\\xff");
	cr_assert_eq(json_object_size(tp_get(tp, 0, "http.request.headers.cookie")), 3);
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.x-secret"), "REDACTED");
	tp_free(tp);
}

Test(http, response_notes_replace_request_notes)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n";
	struct tp *tp = http_tp(NULL);
	json_t *notes;

	tp_handshake(tp);
	/* Host names another port: a note on the request */
	send_str(tp, C2S, "GET /a HTTP/1.1\r\nHost: h:1234\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); /* 38 bytes */
	send_str(tp, C2S, "GET /b HTTP/1.1\r\nHost: h:1234\r\n\r\n");
	send_str(tp, S2C, head);
	tp_tcp(tp, S2C, 0, "0123456789", 10);
	/* bytes 10..19 of the body never arrive: a note on the response */
	tp_tcp_at(tp, S2C, 0, 38 + (uint32_t)strlen(head) + 20, "0123456789", 10);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(pstat(tp, PSTAT_PARSE_ERRORS), 0);
	notes = tp_get(tp, 0, "error.message");
	cr_assert_str_eq(json_string_value(notes), "Host header port number mismatch");
	notes = tp_get(tp, 1, "error.message");
	cr_assert_str_eq(json_string_value(notes), "Packet loss while capturing the response");
	cr_assert_str_eq(get_str(tp, 1, "destination.domain"), "h");
	tp_free(tp);
}

Test(http, thousands_of_distinct_headers)
{
	struct tp *tp = http_tp("    send_all_headers: true\n");
	size_t n = 0, cap = 60000;
	char *req = malloc(cap);
	int k = 0;

	tp_handshake(tp);
	n += (size_t)snprintf(req + n, cap - n, "GET / HTTP/1.1\r\n");
	while (n + 64 < cap)
		n += (size_t)snprintf(req + n, cap - n, "X-%d: %d\r\nx-%d: again\r\n", k, k, k), k++;
	n += (size_t)snprintf(req + n, cap - n, "\r\n");
	tp_tcp(tp, C2S, XB_TCP_PSH, req, n);
	send_str(tp, S2C, "HTTP/1.1 204 No Content\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	/* every name once (plus content-length), repeats joined */
	cr_assert_eq(json_object_size(tp_get(tp, 0, "http.request.headers")), (size_t)k + 1);
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.x-0"), "0, again");
	cr_assert_str_eq(get_str(tp, 0, "http.request.headers.x-1"), "1, again");
	free(req);
	tp_free(tp);
}

Test(http, one_far_future_timestamp_does_not_expire_everything)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "GET /1 HTTP/1.1\r\n\r\n");
	/* one packet of another flow stamped ten hours ahead (a broken capture clock) */
	tp->ts += 36000ULL * 1000000000ULL;
	tp_udp(tp, 0, "x", 1);
	tp->ts -= 36000ULL * 1000000000ULL;
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 200, "the answer still pairs with /1");
	cr_assert_eq(pstat(tp, PSTAT_UNMATCHED), 0);
	tp_free(tp);
}

/* Requests waiting for answers count against xdpbeat.tcp.max_total_bytes: the oldest are given up. */
Test(http, waiting_requests_kept_within_the_memory_cap)
{
	struct tp *tp = http_tp(
		"    include_body_for: [\"text/plain\"]\nxdpbeat.tcp.max_total_bytes: 1MiB\nxdpbeat.tcp.max_stream_bytes: 512KiB\n");
	static char body[300 * 1024];
	char head[128];

	memset(body, 'x', sizeof(body));
	tp_handshake(tp);
	for (int i = 0; i < 8; i++) {
		snprintf(head, sizeof(head),
			 "POST /up/%d HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n", i,
			 sizeof(body));
		send_str(tp, C2S, head);
		for (size_t off = 0; off < sizeof(body); off += 60000)
			tp_tcp(tp, C2S, 0, body + off, sizeof(body) - off < 60000 ? sizeof(body) - off : 60000);
	}
	/* 8 x 300 KiB bodies kept for their answers: at most 3 fit in 1 MiB, the older ones are given up */
	cr_assert_geq(tp->st.v[STAT_TXN_GIVEN_UP_MEMORY], 5);
	cr_assert_eq(tp_count(tp), tp->st.v[STAT_TXN_GIVEN_UP_MEMORY]);
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/up/0");
	cr_assert_str_eq(get_str(tp, 0, "status"), "Error");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 8, "every request published once");
	tp_free(tp);
}

/* RFC 9112 2.2: bare LF line ends (scripts, embedded servers) give the same transaction as CRLF. */
Test(http, bare_lf_lines_every_split)
{
	check_all_splits("    send_request: true\n    send_response: true\n",
			 "GET /lf?x=1 HTTP/1.1\nHost: example\nUser-Agent: printf\n\n",
			 "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\nok");
}

Test(http, bare_lf_chunked_and_mixed_line_ends)
{
	check_all_splits(NULL, "POST /c HTTP/1.1\r\nHost: a\nContent-Length: 3\r\n\nabc",
			 "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\nX-T: 1\n\n");
}

Test(http, bare_lf_fields)
{
	char *lf =
		exchange(NULL, "GET /a HTTP/1.1\nHost: h\n\n", 0, "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n", 0);

	cr_assert(strstr(lf, "\"status_code\":404"), "%s", lf);
	cr_assert(strstr(lf, "\"/a\""), "%s", lf);
	free(lf);
}

/* Request smuggling shapes are published with a note, and the next transaction on the connection still parses. */
static void smuggle_case(const char *req, const char *note)
{
	struct tp *tp = http_tp(NULL);
	char *msg;

	tp_handshake(tp);
	send_str(tp, C2S, req);
	send_str(tp, S2C, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	send_str(tp, C2S, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	msg = json_dumps(tp_get(tp, 0, "error.message"), JSON_ENCODE_ANY);
	cr_assert(msg && strstr(msg, note), "error.message %s", msg ? msg : "(none)");
	free(msg);
	cr_assert_str_eq(get_str(tp, 1, "url.path"), "/next");
	cr_assert_eq(json_integer_value(tp_get(tp, 1, "http.response.status_code")), 200);
	cr_assert_eq(pstat(tp, PSTAT_PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(http, conflicting_content_length_noted)
{
	smuggle_case("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc",
		     "Conflicting Content-Length headers");
}

Test(http, obfuscated_transfer_encoding_noted)
{
	smuggle_case("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
		     "Obfuscated Transfer-Encoding");
}

Test(http, request_coding_without_chunked_noted)
{
	smuggle_case("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
		     "Request Transfer-Encoding without chunked");
}

/* Junk before a request line and an HTTP/0.9 line are counted (parse error, bytes dropped), never silently lost. */
Test(http, junk_and_http09_counted_then_resync)
{
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	send_str(tp, C2S, "\x16\x03\x01junk");
	send_str(tp, C2S, "GET /old\r\n");
	send_str(tp, C2S, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(get_str(tp, 0, "url.path"), "/ok");
	cr_assert_eq(pstat(tp, PSTAT_PARSE_ERRORS), 2);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_BYTES_DROP_PARSE), 17);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_BYTES_DELIVERED),
		     stats_get(&tp->st, STAT_TCP_BYTES_CONSUMED) + stats_get(&tp->st, STAT_TCP_BYTES_DROP_PARSE));
	tp_free(tp);
}

Test(http, chunked_body_broken_after_a_chunk_drops_the_whole_message)
{
	static const char ok[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char head[] = "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, ok);
	tp_tcp_str(tp, 0, head); /* head and a chunk taken into the message */
	tp_tcp_str(tp, 0, "zz\r\n"); /* not a chunk size: the message is lost */
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, strlen(ok), strlen(head) + 4, 0, 0);
	tp_free(tp);
}

Test(http, body_until_close_is_consumed_at_close)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	static const char resp[] = "HTTP/1.0 200 OK\r\n\r\nall of it";
	struct tp *tp = http_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, req);
	tp_tcp_str(tp, 1, resp);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	tp_assert_tcp_bytes(tp, strlen(req) + strlen(resp), 0, 0, 0);
	tp_free(tp);
}
