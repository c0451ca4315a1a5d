/* The xdpbeat version: agent.version, @metadata.version, xdpbeat -V. */
#ifndef XDPBEAT_VERSION_H
#define XDPBEAT_VERSION_H

#define XDPBEAT_VERSION "0.1.0"

#endif
