#!/usr/bin/python3
"""Hostile traffic on a live interface, bounded in count and time.

usage: live_gen.py IFACE SMAC DMAC DST HTTP_PORT PORT... [--scale small|full]
Crafted frames go out of IFACE (AF_PACKET, from SMAC to DMAC, spoofed
sources in 10.250.0.0/16 that no route leads back to); real connections go
to DST, where tests/attack/live_sink.py answers HTTP_PORT and swallows the
other ports. Scenarios, in order:
  synflood   SYNs from many sources and ports to every port
  ooo        crafted connections, tiny segments, runs of them in reverse order
  unfinished connections that send the start of a message and never finish it
  held       MongoDB messages of 3 MiB that never end, on many connections
             at once (more than the sensor may buffer in all)
  chunked    an HTTP request whose chunked body goes on until the bound
  pipeline   10,000 pipelined GETs on one connection, answered
  random     random bytes on every port
Prints one line per scenario: what it sent.
"""
import os
import random
import socket
import sys
import time

from frames import ACK, PSH, SYN, tcp_frame

SCALE = {
    "small": dict(syn=5000, ooo=20000, unfinished=20, held=32, chunked=4 << 20, random=4, secs=20),
    "full": dict(syn=100000, ooo=1000000, unfinished=100, held=64, chunked=64 << 20, random=50, secs=120),
}
# The start of a message each protocol never sees the end of (by port).
UNFINISHED = {
    8080: b"GET /never HTTP/1.1\r\nHost: x\r\nX-Pad: ",
    6379: b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc",
    11211: b"set k 0 0 100\r\nabc",
    3306: b"\x40\x00\x00\x00\x03SELECT",
    5432: b"Q\x00\x00\x01\x00SELECT",
    27017: b"\x00\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00",
    9090: b"\x00\x00\x01\x00\x80\x01\x00\x01",
    53: b"\x00\x40\x12\x34",
}


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


class Raw:
    def __init__(self, iface, smac, dmac, dst):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.s.bind((iface, 0))
        self.smac, self.dmac, self.dst = smac, dmac, socket.inet_aton(dst)
        self.n = 0

    def send(self, src, sport, dport, seq, ack, flags, payload=b"", to_server=True):
        a, b = (src, self.dst) if to_server else (self.dst, src)
        pa, pb = (sport, dport) if to_server else (dport, sport)
        self.s.send(tcp_frame(a, pa, b, pb, seq, ack, flags, payload, self.smac, self.dmac))
        self.n += 1


def spoofed(i):
    return bytes([10, 250, (i >> 8) & 255, i & 255]), 1024 + (i * 7919) % 60000


def synflood(raw, ports, n):
    for i in range(n):
        src, sp = spoofed(i)
        raw.send(src, sp, ports[i % len(ports)], 1000, 0, SYN)
    return "%d SYNs" % n


def ooo(raw, port, n, conns=50, block=100):
    """conns crafted connections, n one-byte segments in all, each block of a connection sent in reverse order."""
    cs = [spoofed(60000 + i) for i in range(conns)]
    for src, sp in cs:
        raw.send(src, sp, port, 1000, 0, SYN)
        raw.send(src, sp, port, 5000, 1001, SYN | ACK, to_server=False)
        raw.send(src, sp, port, 1001, 5001, ACK)
    per = n // conns
    for b in range(0, per, block):
        for src, sp in cs:
            for k in range(min(block, per - b) - 1, -1, -1):
                raw.send(src, sp, port, 1001 + b + k, 5001, ACK, b"A")
    return "%d one-byte segments on %d connections, each run of %d in reverse order" % (per * conns, conns, block)


def connect(dst, port):
    s = socket.create_connection((dst, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def unfinished(dst, ports, k):
    conns = []
    for port in ports:
        for _ in range(k):
            s = connect(dst, port)
            s.sendall(UNFINISHED.get(port, b"\x00\x01\x02"))
            conns.append(s)
    time.sleep(0.5)
    for s in conns:
        s.close()
    return "%d connections left mid-message, then closed" % len(conns)


def held(dst, port, k, size):
    """k connections each sending size bytes of one MongoDB message (a header says size + 1), all held open."""
    head = (size + 1).to_bytes(4, "little") + b"\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00"
    conns = []
    for _ in range(k):
        s = connect(dst, port)
        s.sendall(head + b"\x00" * (size - len(head)))
        conns.append(s)
    time.sleep(0.5)
    for s in conns:
        s.close()
    return "%d connections holding %d bytes of a message each, then closed" % (k, size)


def chunked(dst, port, total, deadline):
    s = connect(dst, port)
    s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    sent = 0
    while sent < total and time.time() < deadline:
        s.sendall(chunk)
        sent += len(chunk)
    s.close()
    return "%d bytes of chunked body, never the last chunk" % sent


def pipeline(dst, port, n, deadline):
    s = connect(dst, port)
    s.sendall(b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n" * n)
    want, got = n * len(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0
    s.settimeout(2)
    while got < want and time.time() < deadline:
        try:
            data = s.recv(1 << 16)
        except socket.timeout:
            break
        if not data:
            break
        got += len(data)
    s.close()
    return "%d pipelined requests, %d of %d response bytes" % (n, got, want)


def rand_bytes(dst, ports, k, rnd):
    n = 0
    for port in ports:
        for _ in range(k):
            s = connect(dst, port)
            for _ in range(rnd.randint(1, 8)):
                s.sendall(rnd.randbytes(rnd.randint(1, 4000)))
                n += 1
            s.close()
    return "%d writes of random bytes on %d connections" % (n, k * len(ports))


def main():
    args = sys.argv[1:]
    scale = "small"
    if "--scale" in args:
        i = args.index("--scale")
        scale = args[i + 1]
        del args[i:i + 2]
    iface, smac, dmac, dst, hport = args[0], mac(args[1]), mac(args[2]), args[3], int(args[4])
    ports = [hport] + [int(p) for p in args[5:]]
    c = SCALE[scale]
    deadline = time.time() + c["secs"]
    rnd = random.Random(int.from_bytes(os.urandom(4), "big"))
    raw = Raw(iface, smac, dmac, dst)
    print("synflood:", synflood(raw, ports, c["syn"]), flush=True)
    print("ooo:", ooo(raw, hport, c["ooo"]), flush=True)
    print("unfinished:", unfinished(dst, ports, c["unfinished"]), flush=True)
    print("held:", held(dst, 27017, c["held"], 3 << 20), flush=True)
    print("chunked:", chunked(dst, hport, c["chunked"], deadline), flush=True)
    print("pipeline:", pipeline(dst, hport, 10000, deadline), flush=True)
    print("random:", rand_bytes(dst, ports, c["random"], rnd), flush=True)


main()
