/*
 * agent.*: who wrote the event, as Beats fill it. agent.type is
 * "packetbeat" so Packetbeat's dashboards and the Security ML jobs (which
 * filter on agent.type) see xdpbeat's events; agent.id is a UUID kept in
 * <path.data>/meta.json across restarts, agent.ephemeral_id new each start.
 */
#ifndef XDPBEAT_AGENT_H
#define XDPBEAT_AGENT_H

#include <stddef.h>

#define AGENT_UUID_LEN 36

struct agent_info {
	char id[AGENT_UUID_LEN + 1];
	char ephemeral_id[AGENT_UUID_LEN + 1];
	char name[256];
	char json[640]; /* ,"agent":{...} ready to append to an event */
	size_t json_len;
};

/* A random (version 4) UUID in buf (AGENT_UUID_LEN + 1 bytes); 0 or -errno. */
int agent_uuid(char *buf);
/*
 * Fill a: name (NULL or "" = hostname), agent.id read from data_dir/meta.json
 * or created there (data_dir made if missing). 0, or -errno when the id
 * could not be kept (a still has a fresh id; err says why).
 */
int agent_load(struct agent_info *a, const char *data_dir, const char *name, const char *version, char *err,
	       size_t errlen);

#endif
