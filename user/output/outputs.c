/* The output registry: one line per user/output_<name>.c. */
#include <string.h>

#include "output.h"

extern const struct output_ops console_output_ops;
extern const struct output_ops file_output_ops;
extern const struct output_ops elasticsearch_output_ops;

const struct output_ops *const output_registry[] = {
	&console_output_ops,
	&file_output_ops,
	&elasticsearch_output_ops,
	NULL,
};

const struct output_ops *output_find(const char *name)
{
	for (size_t i = 0; output_registry[i]; i++)
		if (strcmp(output_registry[i]->name, name) == 0)
			return output_registry[i];
	return NULL;
}
