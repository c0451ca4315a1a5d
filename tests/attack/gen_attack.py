#!/usr/bin/python3
"""Hostile traffic as a pcap (bounded; nothing is sent anywhere).

usage: gen_attack.py OUT.pcap SCENARIO [N]
  flows     N concurrent HTTP connections (many sources/ports), each with a
            request that never finishes (default 100000)
  synflood  N SYNs from distinct sources/ports, never answered
  ooo       one connection, N one-byte segments in reverse order
  pipeline  N pipelined GETs on one connection, never answered
  chunked   one request with an endless chunked body of N chunks
  random    N segments of random bytes on every watched default port
"""
import os
import random
import struct
import sys

from frames import ACK, PSH, SYN, tcp_frame

PORTS = [80, 8080, 8000, 5000, 8002, 53, 6379, 3306, 5432, 11211, 27017, 9090]


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.t = 1_700_000_000_000_000

    def tcp(self, src, sport, dst, dport, seq, ack, flags, payload=b""):
        frame = tcp_frame(src, sport, dst, dport, seq, ack, flags, payload)
        self.t += 10
        self.f.write(struct.pack("<IIII", self.t // 1_000_000, self.t % 1_000_000, len(frame), len(frame)))
        self.f.write(frame)


SRV = bytes([10, 0, 0, 1])


def client(i):
    return bytes([10, 1 + (i >> 16) % 250, (i >> 8) & 255, i & 255]), 1024 + (i * 7919) % 60000


def handshake(p, c, cp, sp):
    p.tcp(c, cp, SRV, sp, 1000, 0, SYN)
    p.tcp(SRV, sp, c, cp, 5000, 1001, SYN | ACK)
    p.tcp(c, cp, SRV, sp, 1001, 5001, ACK)


def main():
    out, scen = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    p = Pcap(out)
    rnd = random.Random(13)
    if scen == "flows":
        for i in range(n):
            c, cp = client(i)
            handshake(p, c, cp, 80)
            p.tcp(c, cp, SRV, 80, 1001, 5001, PSH | ACK, b"GET /never-ends HTTP/1.1\r\nHost: x\r\nX-Pad: ")
    elif scen == "synflood":
        for i in range(n):
            c, cp = client(i)
            p.tcp(c, cp, SRV, PORTS[i % len(PORTS)], 1000, 0, SYN)
    elif scen == "ooo":
        c, cp = client(1)
        handshake(p, c, cp, 80)
        for k in range(n, 0, -1):
            p.tcp(c, cp, SRV, 80, 1001 + k, 5001, ACK, b"A")
    elif scen == "pipeline":
        c, cp = client(2)
        handshake(p, c, cp, 80)
        seq = 1001
        req = b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n"
        for _ in range(n):
            p.tcp(c, cp, SRV, 80, seq, 5001, PSH | ACK, req)
            seq += len(req)
    elif scen == "chunked":
        c, cp = client(3)
        handshake(p, c, cp, 80)
        seq = 1001
        head = b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        p.tcp(c, cp, SRV, 80, seq, 5001, PSH | ACK, head)
        seq += len(head)
        chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
        for _ in range(n):
            p.tcp(c, cp, SRV, 80, seq, 5001, PSH | ACK, chunk)
            seq += len(chunk)
    elif scen == "random":
        for i in range(n):
            c, cp = client(i % 5000)
            p.tcp(c, cp, SRV, PORTS[i % len(PORTS)], 1001 + 1400 * (i // 5000), 5001, PSH | ACK,
                  bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1400))))
    else:
        sys.exit("unknown scenario " + scen)
    p.f.close()


if __name__ == "__main__":
    main()
