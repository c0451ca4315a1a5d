/*
 * The default configuration: config/xdpbeat.yml embedded at build time, so
 * `xdpbeat` without -c runs with the same file that ships in config/.
 * The Makefile makes this object depend on config/xdpbeat.yml.
 */
#include <stddef.h>

#include "config.h"

__asm__(".section .rodata\n"
	".global config_default_yml\n"
	".type config_default_yml, @object\n"
	".balign 16\n"
	"config_default_yml:\n"
	".incbin \"config/xdpbeat.yml\"\n"
	"config_default_yml_end:\n"
	".byte 0\n"
	".size config_default_yml, . - config_default_yml\n"
	".global config_default_yml_len\n"
	".type config_default_yml_len, @object\n"
	".balign 8\n"
	"config_default_yml_len:\n"
	".quad config_default_yml_end - config_default_yml\n"
	".size config_default_yml_len, 8\n"
	".previous\n");
