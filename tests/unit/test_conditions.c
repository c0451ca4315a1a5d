/* Beats conditions (`when`, `if`) through drop_event: each kind, its edge cases and its config errors. */
#include <criterion/criterion.h>
#include <string.h>

#include "proc_testutil.h"

static const char *ev = "{\"type\":\"http\",\"status\":\"OK\",\"http\":{\"response\":{\"status_code\":404},"
			"\"request\":{\"method\":\"GET\"}},\"source\":{\"ip\":\"10.1.2.3\"},"
			"\"destination\":{\"ip\":\"8.8.8.8\"},\"tags\":[\"web\",\"frontend\"],"
			"\"related\":{\"ip\":[\"192.168.1.5\",\"2001:db8::1\"]},\"event\":{\"duration\":1500.5},"
			"\"labels\":{\"a.b\":\"x\"},\"ok\":true}";

Test(conditions, equals_numbers_strings_bools)
{
	cr_assert(pt_cond("        equals.http.response.status_code: 404", ev));
	cr_assert(!pt_cond("        equals.http.response.status_code: 200", ev));
	cr_assert(pt_cond("        equals: {status: OK, http.request.method: GET}", ev));
	cr_assert(!pt_cond("        equals: {status: OK, http.request.method: POST}", ev), "all fields must hold");
	cr_assert(!pt_cond("        equals.http.response.status_code: \"404\"", ev), "a quoted number is a string");
	cr_assert(pt_cond("        equals.ok: true", ev));
	cr_assert(!pt_cond("        equals.missing: 1", ev));
	cr_assert(pt_cond("        equals.labels.a.b: x", ev), "a key with dots is found");
}

Test(conditions, contains_strings_and_arrays)
{
	cr_assert(pt_cond("        contains.status: K", ev));
	cr_assert(pt_cond("        contains.tags: front", ev), "any element of an array");
	cr_assert(!pt_cond("        contains.tags: back", ev));
	cr_assert(!pt_cond("        contains.http.response.status_code: 40", ev), "numbers do not contain");
}

Test(conditions, regexp_posix_and_re2_escapes)
{
	cr_assert(pt_cond("        regexp.status: \"^O.$\"", ev));
	cr_assert(!pt_cond("        regexp.status: \"^K\"", ev));
	cr_assert(pt_cond("        regexp.source.ip: '^\\d+\\.\\d+'", ev), "\\d translated");
	cr_assert(pt_cond("        regexp.http.request.method: '(?i)get'", ev), "(?i) translated");
	cr_assert(pt_cond("        regexp.tags: '^fr'", ev), "any element of an array");
	cr_assert(!pt_cond("        regexp.tags: '\\s'", ev));
}

Test(conditions, range_bounds)
{
	cr_assert(pt_cond("        range.http.response.status_code.gte: 400", ev));
	cr_assert(pt_cond("        range.http.response.status_code: {gte: 400, lt: 500}", ev));
	cr_assert(!pt_cond("        range.http.response.status_code.gt: 404", ev));
	cr_assert(pt_cond("        range.http.response.status_code.lte: 404", ev));
	cr_assert(pt_cond("        range.event.duration.lt: 1500.6", ev), "floats");
	cr_assert(!pt_cond("        range.status.gt: 0", ev), "a string is not in any range");
}

Test(conditions, network_cidr_named_and_lists)
{
	cr_assert(pt_cond("        network.source.ip: 10.0.0.0/8", ev));
	cr_assert(pt_cond("        network.source.ip: private", ev));
	cr_assert(!pt_cond("        network.destination.ip: private", ev));
	cr_assert(pt_cond("        network.destination.ip: public", ev));
	cr_assert(pt_cond("        network.destination.ip: [loopback, 8.8.8.0/24]", ev));
	cr_assert(pt_cond("        network.related.ip: 2001:db8::/32", ev), "any address of an array");
	cr_assert(!pt_cond("        network.status: private", ev), "not an address");
	cr_assert(pt_cond("        network: {source.ip: private, destination.ip: unicast}", ev));
}

Test(conditions, has_fields_and_or_not)
{
	cr_assert(pt_cond("        has_fields: [status, http.response.status_code]", ev));
	cr_assert(!pt_cond("        has_fields: [status, nope]", ev));
	cr_assert(pt_cond("        or:\n          - equals.status: NO\n          - equals.type: http", ev));
	cr_assert(!pt_cond("        and:\n          - equals.status: OK\n          - equals.type: dns", ev));
	cr_assert(pt_cond("        not.equals.type: dns", ev));
	cr_assert(!pt_cond("        not.has_fields: [status]", ev));
	cr_assert(pt_cond(
		"        not:\n          or:\n            - equals.type: dns\n            - equals.type: redis", ev));
}

Test(conditions, config_errors_name_file_line_and_condition)
{
	const char *e = pt_config_error("  - drop_event:\n      when.equal.status: OK");

	cr_assert(strstr(e, "p.yml:4:") && strstr(e, "unknown condition"), "%s", e);
	e = pt_config_error("  - drop_event:\n      when.regexp.status: '(unclosed'");
	cr_assert(strstr(e, "invalid regular expression"), "%s", e);
	e = pt_config_error("  - drop_event:\n      when.range.status.between: 3");
	cr_assert(strstr(e, ".gte"), "%s", e);
	e = pt_config_error("  - drop_event:\n      when.range.status.gt: abc");
	cr_assert(strstr(e, "expected a number"), "%s", e);
	e = pt_config_error("  - drop_event:\n      when.network.source.ip: 10.0.0.0/33");
	cr_assert(strstr(e, "expected a CIDR"), "%s", e);
	e = pt_config_error("  - drop_event:\n      when.and: {equals.status: OK}");
	cr_assert(strstr(e, "list of conditions"), "%s", e);
}
