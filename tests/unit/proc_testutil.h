/* Helpers of the processor and condition tests (tests/unit/proc_testutil.c). */
#ifndef XDPBEAT_PROC_TESTUTIL_H
#define XDPBEAT_PROC_TESTUTIL_H

#include <jansson.h>

#include "config.h"
#include "processors.h"

/* The global processors of a config whose `processors:` list is yaml (indented by 2); the test fails on errors. */
struct config *pt_config(const char *yaml);
/* The error message of loading that config (the test fails if it loads). */
const char *pt_config_error(const char *yaml);
/* A JSON object from text (test fails if invalid). */
json_t *pt_json(const char *text);
/* ev through cfg's global processors: the verdict; stats counted in *st (may be NULL). */
enum proc_verdict pt_run(const struct config *cfg, json_t *ev, struct stats *st);
/* 1 if the when-condition (YAML, indented by 6) holds for the event text, else 0. */
int pt_cond(const char *when_yaml, const char *event);
/* The string at a dotted path ("" if missing). */
const char *pt_str(json_t *ev, const char *path);

#endif
