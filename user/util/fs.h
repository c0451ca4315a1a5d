/* File system helpers. */
#ifndef XDPBEAT_FS_H
#define XDPBEAT_FS_H

#include <sys/types.h>

/* mkdir -p with mode for every directory it makes; 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
