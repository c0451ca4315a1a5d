/*
 * Beats' @metadata in the console and file outputs (Logstash reads it from
 * there); the Elasticsearch output leaves it out of the document.
 */
#include <errno.h>
#include <stdio.h>

#include "output.h"
#include "version.h"

#define METADATA "\"@metadata\":{\"beat\":\"packetbeat\",\"type\":\"_doc\",\"version\":\"" XDPBEAT_VERSION "\"}"

int event_write_line(FILE *f, const char *line, size_t len, size_t *written)
{
	static const char meta[] = "{" METADATA;
	size_t rest = len > 1 ? len - 1 : 0; /* after the opening brace */
	bool empty = len == 2; /* "{}" */

	if (!len || line[0] != '{')
		return -EINVAL;
	if (fwrite(meta, 1, sizeof(meta) - 1, f) != sizeof(meta) - 1 || (!empty && fputc(',', f) == EOF) ||
	    fwrite(line + 1, 1, rest, f) != rest || fputc('\n', f) == EOF)
		return -EIO;
	if (written)
		*written = event_line_size(len);
	return 0;
}

int event_add_metadata(json_t *doc)
{
	json_t *m = json_pack("{s:s,s:s,s:s}", "beat", "packetbeat", "type", "_doc", "version", XDPBEAT_VERSION);

	return m && !json_object_set_new(doc, "@metadata", m) ? 0 : -ENOMEM;
}

/* The bytes event_write_line adds to a line of len bytes (the size limit of rotated files). */
size_t event_line_size(size_t len)
{
	return sizeof("{" METADATA) - 1 + (len != 2) + (len > 1 ? len - 1 : 0) + 1;
}
