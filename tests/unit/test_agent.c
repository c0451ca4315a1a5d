/* agent.*: meta.json keeps agent.id across starts, ephemeral_id is new each start, the fragment is valid JSON. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event/agent.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/xb_agent_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/data/meta.json", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/data", dir);
	rmdir(p);
	rmdir(dir);
}

TestSuite(agent, .init = make_dir, .fini = remove_dir);

static json_t *agent_object(const struct agent_info *a)
{
	char text[700];
	json_error_t err;
	json_t *o;

	snprintf(text, sizeof(text), "{%.*s}", (int)a->json_len - 1, a->json + 1); /* drop the leading comma */
	o = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	cr_assert_not_null(o, "%s: %s", err.text, text);
	return o;
}

Test(agent, id_kept_ephemeral_new)
{
	struct agent_info a, b;
	char data[96], err[256];
	json_t *o, *ag;

	snprintf(data, sizeof(data), "%s/data", dir);
	cr_assert_eq(agent_load(&a, data, "probe-1", "9.9.9", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(agent_load(&b, data, NULL, "9.9.9", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(a.id, b.id);
	cr_assert_str_neq(a.ephemeral_id, b.ephemeral_id);
	cr_assert_str_neq(a.id, a.ephemeral_id);
	cr_assert_eq(strlen(a.id), 36);
	cr_assert_eq(a.id[14], '4'); /* version 4 */
	o = agent_object(&a);
	ag = json_object_get(o, "agent");
	cr_assert_str_eq(json_string_value(json_object_get(ag, "type")), "packetbeat");
	cr_assert_str_eq(json_string_value(json_object_get(ag, "name")), "probe-1");
	cr_assert_str_eq(json_string_value(json_object_get(ag, "version")), "9.9.9");
	cr_assert_str_eq(json_string_value(json_object_get(ag, "id")), a.id);
	cr_assert_str_eq(json_string_value(json_object_get(ag, "ephemeral_id")), a.ephemeral_id);
	json_decref(o);
	cr_assert(b.name[0]); /* hostname */
}

/* data = dir/data holding a meta.json with text. */
static void put_meta(char *data, size_t len, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(data, len, "%s/data", dir);
	cr_assert_eq(mkdir(data, 0700), 0);
	snprintf(path, sizeof(path), "%s/meta.json", data);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(agent, reads_beats_meta_json)
{
	char data[96], err[256];
	struct agent_info a;

	put_meta(data, sizeof(data),
		 "{\"uuid\":\"0f5b6a4e-1d2c-4b3a-9e8f-7a6b5c4d3e2f\",\"first_start\":\"2024-01-01T00:00:00Z\"}\n");
	cr_assert_eq(agent_load(&a, data, NULL, "1", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(a.id, "0f5b6a4e-1d2c-4b3a-9e8f-7a6b5c4d3e2f");
}

Test(agent, bad_meta_json_is_an_error_with_a_fresh_id)
{
	char data[96], err[256];
	struct agent_info a;

	put_meta(data, sizeof(data), "{\"uuid\":\"not-a-uuid\"}");
	cr_assert_neq(agent_load(&a, data, NULL, "1", err, sizeof(err)), 0);
	cr_assert(strstr(err, "meta.json"), "%s", err);
	cr_assert_eq(strlen(a.id), 36);
	cr_assert(a.json_len > 0);
}
