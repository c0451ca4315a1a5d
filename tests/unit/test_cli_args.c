/*
 * cli_parse and -d: Packetbeat's "-d sel" as a separate word (which
 * crashed: the glued argv kept the old count), several -d, -d alone.
 */
#include <criterion/criterion.h>
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"

static int parse(int argc, char **argv, struct opts *o)
{
	bool done;

	memset(o, 0, sizeof(*o));
	optind = 0; /* glibc: start over */
	return cli_parse(argc, argv, o, &done);
}

Test(cli_args, separate_d_word_is_its_argument)
{
	char *argv[] = { "xdpbeat", "-d", "tcp", "-I", "x.pcap", NULL };
	struct opts o;

	cr_assert_eq(parse(5, argv, &o), 0);
	cr_assert_str_eq(o.selectors, "tcp");
	cr_assert_str_eq(o.pcap, "x.pcap");
	cr_assert_eq(o.nargs, 0);
}

Test(cli_args, several_d_are_joined)
{
	char *argv[] = { "xdpbeat", "-d", "tcp", "-dhttp,bpf", "-e", "-d", "config", NULL };
	struct opts o;

	cr_assert_eq(parse(7, argv, &o), 0);
	cr_assert_str_eq(o.selectors, "tcp,http,bpf,config");
	cr_assert(o.log_stderr);
}

Test(cli_args, d_alone_is_every_selector)
{
	char *argv[] = { "xdpbeat", "-d", "-e", NULL };
	struct opts o;

	cr_assert_eq(parse(3, argv, &o), 0);
	cr_assert_str_eq(o.selectors, "*");
}

Test(cli_args, no_d_no_selectors)
{
	char *argv[] = { "xdpbeat", "-e", NULL };
	struct opts o;

	cr_assert_eq(parse(2, argv, &o), 0);
	cr_assert_null(o.selectors);
}

Test(cli_args, d_before_a_subcommand_stays_alone)
{
	char *argv[] = { "xdpbeat", "-d", "version", NULL };
	struct opts o;

	cr_assert_eq(parse(3, argv, &o), 0);
	cr_assert_str_eq(o.selectors, "*");
	cr_assert_eq(o.nargs, 1);
	cr_assert_str_eq(o.args[0], "version");
}
