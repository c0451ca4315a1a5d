/* The protocol registry: one line per protos/<name>.c. */
#include <string.h>

#include "proto.h"

extern const struct proto_ops http_ops;
extern const struct proto_ops dns_ops;
extern const struct proto_ops memcache_ops;
extern const struct proto_ops redis_ops;
extern const struct proto_ops mongodb_ops;
extern const struct proto_ops pgsql_ops;
extern const struct proto_ops mysql_ops;
extern const struct proto_ops thrift_ops;

const struct proto_ops *const proto_registry[] = {
	&http_ops, &dns_ops, &memcache_ops, &redis_ops, &mongodb_ops, &pgsql_ops, &mysql_ops, &thrift_ops, NULL,
};

const struct proto_ops *proto_find(const char *name)
{
	for (size_t i = 0; proto_registry[i]; i++)
		if (strcmp(proto_registry[i]->name, name) == 0)
			return proto_registry[i];
	return NULL;
}
