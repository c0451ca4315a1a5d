#!/usr/bin/python3
"""Write a pcap of N HTTP/1.1 transactions over TCP (IPv4, Ethernet) for the
Elasticsearch output tests and benchmark. Standard library only.

usage: es_gen_pcap.py OUT.pcap N [--conns C] [--start EPOCH] [--port P] [--slow-every K]

Each connection has a handshake, N/C keep-alive request/response pairs and a
FIN exchange. Request i asks for /item/<i>; every K-th response takes 1.5 s
(for "slow request" queries); others take 2 ms. Packet timestamps start at
--start (default 2026-01-02T03:04:05Z) so index names are predictable.
"""

import argparse
import struct


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    c = csum(pseudo + tcp + payload)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, ip4(src), ip4(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp + payload


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))  # ns pcap

    def add(self, ts_ns, pkt):
        self.f.write(struct.pack("<IIII", ts_ns // 1000000000, ts_ns % 1000000000, len(pkt), len(pkt)))
        self.f.write(pkt)

    def close(self):
        self.f.close()


SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--conns", type=int, default=10)
    ap.add_argument("--start", type=int, default=1767323045)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--slow-every", type=int, default=0)
    a = ap.parse_args()
    w = Writer(a.out)
    t = a.start * 1000000000
    cli, srv = "10.0.0.1", "10.0.0.2"
    per = max(1, (a.n + a.conns - 1) // a.conns)
    i = 0
    for c in range(a.conns):
        if i >= a.n:
            break
        sport = 40000 + c
        cs, ss = 1000 + c * 7919, 5000 + c * 104729
        w.add(t, tcp_packet(cli, srv, sport, a.port, cs, 0, SYN, b""))
        w.add(t + 1000, tcp_packet(srv, cli, a.port, sport, ss, cs + 1, SYN | ACK, b""))
        w.add(t + 2000, tcp_packet(cli, srv, sport, a.port, cs + 1, ss + 1, ACK, b""))
        cs += 1
        ss += 1
        t += 10000
        for _ in range(per):
            if i >= a.n:
                break
            req = ("GET /item/%d?q=%d HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: gen/1\r\n"
                   "Accept: */*\r\n\r\n" % (i, i)).encode()
            status = b"404 Not Found" if i % 10 == 9 else b"200 OK"
            body = b'{"item": %d}' % i
            resp = (b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % len(body)) + body
            w.add(t, tcp_packet(cli, srv, sport, a.port, cs, ss, PSH | ACK, req))
            cs += len(req)
            dt = 1500000000 if a.slow_every and i % a.slow_every == a.slow_every - 1 else 2000000
            w.add(t + dt, tcp_packet(srv, cli, a.port, sport, ss, cs, PSH | ACK, resp))
            ss += len(resp)
            w.add(t + dt + 1000, tcp_packet(cli, srv, sport, a.port, cs, ss, ACK, b""))
            t += dt + 100000
            i += 1
        w.add(t, tcp_packet(cli, srv, sport, a.port, cs, ss, FIN | ACK, b""))
        w.add(t + 1000, tcp_packet(srv, cli, a.port, sport, ss, cs + 1, FIN | ACK, b""))
        w.add(t + 2000, tcp_packet(cli, srv, sport, a.port, cs + 1, ss + 1, ACK, b""))
        t += 1000000
    w.close()


if __name__ == "__main__":
    main()
