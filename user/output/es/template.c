/*
 * Index template of the Elasticsearch output: the composable template in
 * config/xdpbeat.template.json (built into the binary, or read from
 * setup.template.path), installed with PUT _index_template/<name> before the
 * first bulk request unless it exists and setup.template.overwrite is off.
 * With setup.template.data_stream it is a data stream template
 * ("data_stream": {}): Elasticsearch then creates the data stream named by
 * output.elasticsearch.index on the first write.
 */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"

/* The template file, embedded at build time (make runs from the repo root). */
__asm__(".section .rodata\n"
	".global es_template_builtin\n"
	".type es_template_builtin, @object\n"
	"es_template_builtin:\n"
	".incbin \"config/xdpbeat.template.json\"\n"
	".byte 0\n"
	".previous\n");
extern const char es_template_builtin[];

const struct cfg_field es_template_fields[] = {
	{ "enabled", CFG_BOOL, offsetof(struct es_template_cfg, enabled), 0, 0, NULL, NULL },
	{ "name", CFG_STRING, offsetof(struct es_template_cfg, name), 0, 0, NULL, NULL },
	{ "pattern", CFG_STRING, offsetof(struct es_template_cfg, pattern), 0, 0, NULL, NULL },
	{ "overwrite", CFG_BOOL, offsetof(struct es_template_cfg, overwrite), 0, 0, NULL, NULL },
	{ "path", CFG_STRING, offsetof(struct es_template_cfg, path), 0, 0, NULL, NULL },
	{ "data_stream", CFG_BOOL, offsetof(struct es_template_cfg, data_stream), 0, 0, NULL, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

char *es_template_body(const struct es_template_cfg *t, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	char *out;

	if (t->path)
		root = json_load_file(t->path, 0, &je);
	else
		root = json_loads(es_template_builtin, 0, &je);
	if (!root || !json_is_object(root)) {
		snprintf(err, errlen, "index template %s: %s", t->path ? t->path : "(built in)",
			 root ? "not a JSON object" : je.text);
		if (!root && je.line > 0)
			snprintf(err + strlen(err), errlen - strlen(err), " (line %d)", je.line);
		json_decref(root);
		return NULL;
	}
	if (!t->data_stream && json_is_object(json_object_get(root, "data_stream"))) {
		snprintf(err, errlen,
			 "index template %s is a data stream template (\"data_stream\"): set "
			 "setup.template.data_stream: true (only create ops, a fixed index name)",
			 t->path ? t->path : "(built in)");
		json_decref(root);
		return NULL;
	}
	if ((t->pattern && json_object_set_new(root, "index_patterns", json_pack("[s]", t->pattern))) ||
	    (t->data_stream && !json_is_object(json_object_get(root, "data_stream")) &&
	     json_object_set_new(root, "data_stream", json_object()))) {
		json_decref(root);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	out = json_to_string(root);
	json_decref(root);
	if (!out)
		snprintf(err, errlen, "out of memory");
	return out;
}

static int template_request(struct es_client *c, struct es_req *r, const char *method, const char *name,
			    const char *body, const atomic_bool *stop)
{
	r->method = method;
	snprintf(r->path, sizeof(r->path), "/_index_template/%s", name);
	r->body = body;
	r->len = body ? strlen(body) : 0;
	r->ctype = body ? "application/json" : NULL;
	r->compress = false;
	es_client_run(c, &r, 1, stop);
	return r->err;
}

static int explain(struct es_req *r, const char *what, char *err, size_t errlen)
{
	char why[300];

	if (r->err) {
		snprintf(err, errlen, "%s: %s: %s", what, r->host ? r->host : "", r->errmsg);
		return -EAGAIN;
	}
	es_error_summary(r->resp.p, r->resp.len, why, sizeof(why));
	snprintf(err, errlen, "%s: HTTP %ld%s%s", what, r->status, why[0] ? ": " : "", why);
	if (r->status == 401)
		snprintf(err + strlen(err), errlen - strlen(err), " (check username/password/api_key)");
	/* 403: the user may write events but not manage templates: go on without */
	if (r->status == 403) {
		snprintf(err + strlen(err), errlen - strlen(err),
			 " (no privilege to manage index templates; install it another way or set "
			 "setup.template.enabled: false)");
		return -EINVAL;
	}
	return es_req_verdict(r->status) == ES_REQ_SPLIT ? -EINVAL : -EAGAIN;
}

/* An installed template that is (not) a data stream template, unlike ours: say what happens. */
static void check_kind(const struct es_template_cfg *t, const struct es_req *r, char *err, size_t errlen)
{
	json_t *root = json_loadb(r->resp.p, r->resp.len, 0, NULL);
	json_t *tpl = json_object_get(json_array_get(json_object_get(root, "index_templates"), 0), "index_template");
	bool ds = json_is_object(json_object_get(tpl, "data_stream"));

	if (json_is_object(tpl) && ds != t->data_stream)
		snprintf(err, errlen,
			 "index template %s exists %s a data stream template, but setup.template.data_stream is %s: "
			 "it is kept (setup.template.overwrite is off), so %s; set setup.template.overwrite: true to "
			 "replace it",
			 t->name, ds ? "as" : "and is not", t->data_stream ? "on" : "off",
			 ds ? "every index name matching it becomes a data stream (create only)"
			    : "events go to a regular index, not a data stream");
	json_decref(root);
}

int es_template_ensure(struct es_client *c, const struct es_template_cfg *t, const char *body, const atomic_bool *stop,
		       char *err, size_t errlen)
{
	struct es_req r = { 0 };
	int rc = 0;

	err[0] = '\0';
	if (!t->overwrite) {
		template_request(c, &r, "GET", t->name, NULL, stop);
		if (!r.err && r.status == 200) {
			check_kind(t, &r, err, errlen);
			goto out;
		}
		if (r.err || r.status != 404) {
			rc = explain(&r, "checking index template", err, errlen);
			goto out;
		}
	}
	template_request(c, &r, "PUT", t->name, body, stop);
	if (r.err || r.status < 200 || r.status >= 300)
		rc = explain(&r, "installing index template", err, errlen);
out:
	json_buf_free(&r.resp);
	return rc;
}
