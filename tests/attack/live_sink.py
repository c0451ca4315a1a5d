#!/usr/bin/python3
"""Servers for the live attack (run inside the test's network namespace).

usage: live_sink.py ADDR SECONDS HTTP_PORT PORT...
Listens on ADDR:HTTP_PORT and ADDR:PORT...; on HTTP_PORT every request head
(up to an empty line) gets an empty 200 response, so deep pipelining is
answered; on the others what arrives is read and dropped. Exits after
SECONDS whatever happens.
"""
import asyncio
import sys

RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


async def http(reader, writer):
    tail = b""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            buf = tail + data
            n = buf.count(b"\r\n\r\n")
            tail = buf[buf.rfind(b"\r\n\r\n") + 4:] if n else buf[-3:]
            if n:
                writer.write(RESP * n)
                await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


async def sink(reader, writer):
    try:
        while await reader.read(65536):
            pass
    except (ConnectionError, OSError):
        pass
    writer.close()


async def main():
    addr, secs, hport = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    servers = [await asyncio.start_server(http, addr, hport, backlog=4096)]
    for p in sys.argv[4:]:
        servers.append(await asyncio.start_server(sink, addr, int(p), backlog=4096))
    print("listening", flush=True)
    await asyncio.sleep(secs)
    for s in servers:
        s.close()


asyncio.run(main())
