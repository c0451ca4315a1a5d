/*
 * File output names as Beats 8: <filename>-<yyyymmdd>.ndjson, then
 * <filename>-<yyyymmdd>-1.ndjson, -2, ... as the output rotates (the
 * highest number is the newest file); the oldest are removed past
 * number_of_files.
 */
#ifndef XDPBEAT_FILE_NAMES_H
#define XDPBEAT_FILE_NAMES_H

#include <stddef.h>

/* One file of the set: date yyyymmdd as a number, index 0 for the file without a -N suffix. */
struct file_seq {
	unsigned date;
	unsigned index;
};

/* Parse a directory entry of base's set ("xdpbeat-20261202-3.ndjson"); 0, or -1 if not one of them. */
int file_name_parse(const char *base, const char *entry, struct file_seq *s);
/* "dir/base-date[-index].ndjson" into buf; -1 if it does not fit. */
int file_name_make(char *buf, size_t len, const char *dir, const char *base, const struct file_seq *s);
/* The newest file of base's set in dir dated date (-1 in *found if none); 0 or -errno. */
int file_name_last(const char *dir, const char *base, unsigned date, struct file_seq *last, int *found);
/* Remove the oldest files of base's set in dir until at most keep remain; 0 or -errno. */
int file_names_purge(const char *dir, const char *base, size_t keep);

#endif
