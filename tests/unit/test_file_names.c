/* File output names as Beats 8: parse, make, newest of a day, purge of the oldest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/file_names.h"

Test(file_names, parse_and_make)
{
	struct file_seq s;
	char buf[128];

	cr_assert_eq(file_name_parse("xb", "xb-20261202.ndjson", &s), 0);
	cr_assert_eq(s.date, 20261202);
	cr_assert_eq(s.index, 0);
	cr_assert_eq(file_name_parse("xb", "xb-20261202-17.ndjson", &s), 0);
	cr_assert_eq(s.index, 17);
	cr_assert_neq(file_name_parse("xb", "xb-2026120-1.ndjson", &s), 0);
	cr_assert_neq(file_name_parse("xb", "xb-20261202-0.ndjson", &s), 0);
	cr_assert_neq(file_name_parse("xb", "xb-20261202-.ndjson", &s), 0);
	cr_assert_neq(file_name_parse("xb", "xb-20261202.ndjson.1", &s), 0);
	cr_assert_neq(file_name_parse("xb", "xbx-20261202.ndjson", &s), 0);
	cr_assert_neq(file_name_parse("xb", "xb-202612021.ndjson", &s), 0);
	cr_assert_eq(file_name_make(buf, sizeof(buf), "/d", "xb", &s), 0);
	cr_assert_str_eq(buf, "/d/xb-20261202-17.ndjson");
	s.index = 0;
	cr_assert_eq(file_name_make(buf, sizeof(buf), "/d", "xb", &s), 0);
	cr_assert_str_eq(buf, "/d/xb-20261202.ndjson");
	cr_assert_neq(file_name_make(buf, 10, "/d", "xb", &s), 0);
}

static void touch(const char *dir, const char *name)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fclose(f);
}

static bool exists(const char *dir, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

Test(file_names, last_and_purge)
{
	char dir[] = "/tmp/xb_names_XXXXXX";
	const char *names[] = { "xb-20261201.ndjson",	"xb-20261201-2.ndjson",	 "xb-20261202.ndjson",
				"xb-20261202-1.ndjson", "xb-20261202-10.ndjson", "xb-20261202-9.ndjson",
				"other.ndjson" };
	struct file_seq last;
	int found;

	cr_assert_not_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		touch(dir, names[i]);
	cr_assert_eq(file_name_last(dir, "xb", 20261202, &last, &found), 0);
	cr_assert_eq(found, 0);
	cr_assert_eq(last.index, 10); /* numerically, not 9 */
	cr_assert_eq(file_name_last(dir, "xb", 20261203, &last, &found), 0);
	cr_assert_eq(found, -1);
	cr_assert_eq(file_names_purge(dir, "xb", 3), 0);
	cr_assert(!exists(dir, "xb-20261201.ndjson"));
	cr_assert(!exists(dir, "xb-20261201-2.ndjson"));
	cr_assert(!exists(dir, "xb-20261202.ndjson"));
	cr_assert(exists(dir, "xb-20261202-1.ndjson"));
	cr_assert(exists(dir, "xb-20261202-9.ndjson"));
	cr_assert(exists(dir, "xb-20261202-10.ndjson"));
	cr_assert(exists(dir, "other.ndjson"));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char p[256];

		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	cr_assert_eq(rmdir(dir), 0);
	cr_assert_neq(file_names_purge(dir, "xb", 3), 0); /* the directory is gone: an error, no crash */
}
