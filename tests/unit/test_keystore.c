/* Keystore file: mode checks, missing keys, save/load, and shadowing the environment. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "keystore.h"

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/xb-ks-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(keystore, .init = mkdir_tmp, .fini = rm_tmp);

static char *ks_path(void)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/xdpbeat.keystore", dir);
	return p;
}

Test(keystore, save_open_get_remove)
{
	char why[300];
	bool exists;
	struct keystore *ks = keystore_open(ks_path(), &exists, why, sizeof(why));
	struct stat st;

	cr_assert_not_null(ks, "%s", why);
	cr_assert_not(exists);
	cr_assert_eq(keystore_set(ks, "ES_PWD", "s3cr\"et"), 0);
	cr_assert_eq(keystore_set(ks, "bad key", "x"), -EINVAL);
	cr_assert_eq(keystore_set(ks, "a}b", "x"), -EINVAL);
	cr_assert_eq(keystore_save(ks, ks_path()), 0);
	keystore_free(ks);
	cr_assert_eq(stat(ks_path(), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	ks = keystore_open(ks_path(), &exists, why, sizeof(why));
	cr_assert_not_null(ks, "%s", why);
	cr_assert(exists);
	cr_assert_str_eq(keystore_get(ks, "ES_PWD"), "s3cr\"et");
	cr_assert_null(keystore_get(ks, "MISSING"));
	cr_assert_eq(keystore_remove(ks, "MISSING"), -ENOENT);
	cr_assert_eq(keystore_remove(ks, "ES_PWD"), 0);
	cr_assert_null(keystore_get(ks, "ES_PWD"));
	keystore_free(ks);
}

Test(keystore, refuses_readable_or_bad_files)
{
	char why[300];
	bool exists;
	FILE *f = fopen(ks_path(), "w");

	fputs("{\"A\": \"b\"}", f);
	fclose(f);
	chmod(ks_path(), 0644);
	cr_assert_null(keystore_open(ks_path(), &exists, why, sizeof(why)));
	cr_assert(strstr(why, "mode 644"), "%s", why);
	chmod(ks_path(), 0600);
	f = fopen(ks_path(), "w");
	fputs("{\"A\": 5}", f);
	fclose(f);
	cr_assert_null(keystore_open(ks_path(), &exists, why, sizeof(why)));
	cr_assert(strstr(why, "\"A\""), "%s", why);
	f = fopen(ks_path(), "w");
	fputs("[1", f);
	fclose(f);
	cr_assert_null(keystore_open(ks_path(), &exists, why, sizeof(why)));
	cr_assert(strstr(why, "not a keystore"), "%s", why);
}

Test(keystore, shadows_env_and_missing_key_errors)
{
	char why[300];
	bool exists;
	struct keystore *ks = keystore_open(ks_path(), &exists, why, sizeof(why));
	struct cfg_resolver r = { .keystore = keystore_lookup, .ctx = ks };
	struct cfg_err err = { { 0 } };
	const char *yml = "name: ${XB_KS_NAME}\ntags: [\"${XB_KS_ENV_ONLY}\"]\n";
	struct config *c;

	setenv("XB_KS_NAME", "env", 1);
	setenv("XB_KS_ENV_ONLY", "env-only", 1);
	cr_assert_eq(keystore_set(ks, "XB_KS_NAME", "keystore"), 0);
	config_set_resolver(&r);
	c = config_load_string(yml, strlen(yml), "k.yml", NULL, 0, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_str_eq(c->name, "keystore");
	cr_assert_str_eq(c->tags.v[0], "env-only");
	config_free(c);
	unsetenv("XB_KS_ENV_ONLY");
	c = config_load_string(yml, strlen(yml), "k.yml", NULL, 0, &err);
	config_set_resolver(NULL);
	cr_assert_null(c);
	cr_assert(strstr(err.msg, "k.yml:2: tags.0: ${XB_KS_ENV_ONLY}: not set in the environment or the keystore"),
		  "%s", err.msg);
	keystore_free(ks);
}

/* Load yml with XB_KS_SECRET in the keystore; the load must fail and the message must not hold the value. */
static void assert_error_hides_secret(const char *yml, const char *want)
{
	static const char secret[] = "k3y-st0re-v4lue-that-is-longer-than-sixty-characters-for-the-cut-0123";
	char why[300];
	bool exists;
	struct keystore *ks = keystore_open(ks_path(), &exists, why, sizeof(why));
	struct cfg_resolver r = { .keystore = keystore_lookup, .ctx = ks };
	struct cfg_err err = { { 0 } };
	struct config *c;

	cr_assert_eq(keystore_set(ks, "XB_KS_SECRET", secret), 0);
	config_set_resolver(&r);
	c = config_load_string(yml, strlen(yml), "k.yml", NULL, 0, &err);
	config_set_resolver(NULL);
	cr_assert_null(c);
	cr_assert(strstr(err.msg, want), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "k3y-st0re"), "%s", err.msg);
	keystore_free(ks);
}

Test(keystore, value_of_the_wrong_type_is_not_quoted_in_the_error)
{
	assert_error_hides_secret(
		"xdpbeat.tcp.max_connections: ${XB_KS_SECRET}\n",
		"xdpbeat.tcp.max_connections: expected an integer from 1 to 16777216, got a value from "
		"the keystore");
}

Test(keystore, string_built_with_a_keystore_value_is_masked_in_the_error)
{
	assert_error_hides_secret("seccomp.syscalls: [{action: \"a-${XB_KS_SECRET}-b\", names: [read]}]\n",
				  "unknown action \"xxxxx\"");
}
