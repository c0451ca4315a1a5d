/* xdpbeat keystore create|add|list|remove, as beats' keystore command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "keystore.h"
#include "util/fs.h"

#define KS_MAX_VALUE 65536

static void drop_key(void *ctx, const char *key)
{
	keystore_remove(ctx, key);
}

static void print_key(void *ctx, const char *key)
{
	printf("%s\n", key);
}

/* The value from stdin (--stdin: all of it, one trailing newline cut) or a prompt without echo. */
static char *read_value(const struct opts *o, const char *key)
{
	char *buf = calloc(1, KS_MAX_VALUE + 1);
	struct termios old, quiet;
	bool tty = !o->ks_stdin && isatty(STDIN_FILENO);
	size_t n;

	if (!buf)
		return NULL;
	if (tty) {
		fprintf(stderr, "Enter value for %s: ", key);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		if (!fgets(buf, KS_MAX_VALUE + 1, stdin))
			buf[0] = '\0';
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	} else {
		n = fread(buf, 1, KS_MAX_VALUE + 1, stdin);
		if (n > KS_MAX_VALUE) {
			fprintf(stderr, "xdpbeat: keystore: value longer than %d bytes\n", KS_MAX_VALUE);
			free(buf);
			return NULL;
		}
		buf[n] = '\0';
	}
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return buf;
}

static int ks_add(const struct opts *o, struct keystore *ks, const char *key)
{
	char *v;
	int rc;

	if (keystore_get(ks, key) && !o->ks_force) {
		fprintf(stderr, "xdpbeat: keystore: %s already exists, --force to overwrite\n", key);
		return -1;
	}
	if (!(v = read_value(o, key)))
		return -1;
	rc = keystore_set(ks, key, v);
	free(v);
	if (rc)
		fprintf(stderr, "xdpbeat: keystore: invalid key name '%s' (no spaces, $, {, }, :)\n", key);
	return rc;
}

static int ks_command(const struct opts *o, struct keystore *ks, bool exists, const char *path)
{
	const char *cmd = o->args[1], *key = o->nargs > 2 ? o->args[2] : NULL;

	if (!strcmp(cmd, "create")) {
		if (exists && !o->ks_force) {
			fprintf(stderr, "xdpbeat: keystore: %s exists, --force to replace it with an empty one\n",
				path);
			return -1;
		}
		keystore_keys(ks, drop_key, ks);
		printf("Created xdpbeat keystore %s\n", path);
		return 1; /* save the empty one */
	}
	if (!strcmp(cmd, "list")) {
		keystore_keys(ks, print_key, NULL);
		return 0;
	}
	if (!key) {
		fprintf(stderr, "xdpbeat: keystore %s: missing KEY\n", cmd);
		return -1;
	}
	if (!exists) {
		fprintf(stderr, "xdpbeat: keystore: %s does not exist, run `xdpbeat keystore create` first\n", path);
		return -1;
	}
	if (!strcmp(cmd, "add"))
		return ks_add(o, ks, key) ? -1 : 1;
	if (!strcmp(cmd, "remove")) {
		for (int i = 2; i < o->nargs; i++)
			if (keystore_remove(ks, o->args[i])) {
				fprintf(stderr, "xdpbeat: keystore: no key '%s'\n", o->args[i]);
				return -1;
			}
		return 1;
	}
	fprintf(stderr, "xdpbeat: keystore: unknown command '%s' (create, add, list, remove)\n", cmd);
	return -1;
}

int cli_keystore(struct opts *o)
{
	char path[4200], why[600];
	struct keystore *ks;
	bool exists;
	int rc;

	if (o->nargs < 2) {
		fprintf(stderr, "xdpbeat: keystore: expected create, add KEY, list or remove KEY\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/xdpbeat.keystore", o->path_data);
	if (!(ks = keystore_open(path, &exists, why, sizeof(why)))) {
		fprintf(stderr, "xdpbeat: keystore: %s\n", why);
		return 1;
	}
	rc = ks_command(o, ks, exists, path);
	if (rc == 1) {
		int e = mkdir_p(o->path_data, 0750);

		rc = e ? e : keystore_save(ks, path);
		if (rc)
			fprintf(stderr, "xdpbeat: keystore: cannot write %s: %s\n", path, strerror(-rc));
	}
	keystore_free(ks);
	return rc ? 1 : 0;
}
