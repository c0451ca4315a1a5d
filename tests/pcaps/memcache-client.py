#!/usr/bin/python3
"""Small memcached client for the pcap generator (tests/pcaps/make-memcache.sh).

  tcp-quiet PORT   binary protocol over TCP: set k1, then a GETKQ pipeline
                   (x, k1, y) closed by NOOP, a miss, incr, stats, version
  udp PORT         memcached's UDP framing (8-byte header): text set/get,
                   a get whose response spans several datagrams, a binary get
  udp-multi PORT   a multi-key get over UDP, which memcached answers with one
                   frame set per value and one for the END (same request id),
                   and binary quiet gets: a miss (an empty frame) and a hit
  meta PORT        meta commands over TCP mixed with classic ones: ms (data
                   block sent in pieces), mg, md, ma, me, mn, a quiet pipeline
                   closed by mn, an invalid flag
"""
import socket
import struct
import sys
import time


def binmsg(op, key=b"", extras=b"", value=b"", opaque=0):
    body = len(extras) + len(key) + len(value)
    return struct.pack(">BBHBBHIIQ", 0x80, op, len(key), len(extras), 0, 0, body, opaque, 0) + extras + key + value


_pending = {}


def read_binary(sock, count):
    """Read count binary responses (bytes past them stay buffered for the next call)."""
    buf = _pending.get(sock, b"")
    out = []
    while len(out) < count:
        while len(buf) < 24 or len(buf) < 24 + struct.unpack(">I", buf[8:12])[0]:
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("connection closed")
            buf += chunk
        n = 24 + struct.unpack(">I", buf[8:12])[0]
        out.append(buf[:n])
        buf = buf[n:]
    _pending[sock] = buf
    return out


def tcp_quiet(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    s.sendall(binmsg(0x01, b"k1", struct.pack(">II", 3, 0), b"quiet pipeline value", opaque=1))
    read_binary(s, 1)
    # GETKQ x, k1, y + NOOP: only k1 and the NOOP answer
    s.sendall(binmsg(0x0D, b"x", opaque=2) + binmsg(0x0D, b"k1", opaque=3) + binmsg(0x0D, b"y", opaque=4) +
              binmsg(0x0A, opaque=5))
    read_binary(s, 2)
    s.sendall(binmsg(0x00, b"missing", opaque=6))
    read_binary(s, 1)
    s.sendall(binmsg(0x01, b"cnt", struct.pack(">II", 0, 0), b"5", opaque=7))
    read_binary(s, 1)
    s.sendall(binmsg(0x05, b"cnt", struct.pack(">QQI", 3, 0, 0), opaque=8))
    read_binary(s, 1)
    s.sendall(binmsg(0x10, b"settings", opaque=9))
    n = 0
    while True:
        (r,) = read_binary(s, 1)
        n += 1
        if struct.unpack(">H", r[2:4])[0] == 0 or n > 500:
            break
    s.sendall(binmsg(0x0B, opaque=10))
    read_binary(s, 1)
    s.sendall(binmsg(0x07, opaque=11))
    read_binary(s, 1)
    s.close()


def udp_exchange(sock, port, reqid, payload):
    """Send one request datagram, collect the datagrams of the response."""
    sock.sendto(struct.pack(">HHHH", reqid, 0, 1, 0) + payload, ("127.0.0.1", port))
    parts = {}
    total = None
    while total is None or len(parts) < total:
        data, _ = sock.recvfrom(65536)
        rid, seq, tot, _ = struct.unpack(">HHHH", data[:8])
        if rid != reqid:
            continue
        total = tot
        parts[seq] = data[8:]
    return b"".join(parts[i] for i in range(total)), total


def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    udp_exchange(s, port, 1, b"set small 0 0 5\r\nhello\r\n")
    udp_exchange(s, port, 2, b"get small\r\n")
    big = bytes((i * 7) % 26 + 97 for i in range(4000))
    udp_exchange(s, port, 3, b"set big 0 0 %d\r\n" % len(big) + big + b"\r\n")
    resp, total = udp_exchange(s, port, 4, b"get big\r\n")
    if total < 2:
        raise SystemExit("expected a multi-datagram response, got %d datagram(s)" % total)
    udp_exchange(s, port, 5, binmsg(0x0C, b"small", opaque=42))
    udp_exchange(s, port, 6, b"delete small\r\n")
    s.close()


def udp_until_end(sock, port, reqid, payload):
    """Send a text get, collect its frame sets until one ends with END; returns how many came."""
    sock.sendto(struct.pack(">HHHH", reqid, 0, 1, 0) + payload, ("127.0.0.1", port))
    parts = {}
    nsets = 0
    for _ in range(1000):
        data, _ = sock.recvfrom(65536)
        rid, seq, tot, _ = struct.unpack(">HHHH", data[:8])
        if rid != reqid:
            continue
        parts[seq] = data[8:]
        if len(parts) < tot:
            continue
        nsets += 1
        message = b"".join(parts[i] for i in range(tot))
        parts = {}
        if message.endswith(b"END\r\n"):
            return nsets
    raise SystemExit("no END")


def udp_multi(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    big = bytes((i * 11) % 26 + 97 for i in range(5000))
    udp_exchange(s, port, 1, b"set ubig 0 0 %d\r\n" % len(big) + big + b"\r\n")
    udp_exchange(s, port, 2, b"set usmall 0 0 3\r\nabc\r\n")
    nsets = udp_until_end(s, port, 3, b"get ubig usmall nokey\r\n")
    if nsets < 3:
        raise SystemExit("expected the values and END framed apart, got %d frame set(s)" % nsets)
    _, total = udp_exchange(s, port, 4, binmsg(0x09, b"nokey", opaque=4))
    if total != 0:
        raise SystemExit("expected an empty frame for a GetQ miss, got %d datagram(s)" % total)
    udp_exchange(s, port, 5, binmsg(0x0D, b"usmall", opaque=5))
    s.close()


def read_until(sock, marker):
    """Read until the bytes received so far end with marker."""
    buf = b""
    while not buf.endswith(marker):
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
    return buf


def meta(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(5)
    s.sendall(b"set k1 0 0 5\r\nhello\r\n")
    read_until(s, b"STORED\r\n")
    s.sendall(b"mg k1 v f t k O1\r\n")
    read_until(s, b"hello\r\n")
    s.sendall(b"get k1\r\n")
    read_until(s, b"END\r\n")
    # an ms whose data block comes in three segments
    big = bytes((i * 13) % 26 + 97 for i in range(3000))
    s.sendall(b"ms big %d F5 T0\r\n" % len(big) + big[:1000])
    time.sleep(0.05)
    s.sendall(big[1000:2000])
    time.sleep(0.05)
    s.sendall(big[2000:] + b"\r\n")
    read_until(s, b"HD\r\n")
    s.sendall(b"mg big s v\r\n")
    read_until(s, big[-10:] + b"\r\n")
    s.sendall(b"mg nokey v\r\n")
    read_until(s, b"EN\r\n")
    s.sendall(b"md nokey\r\n")
    read_until(s, b"NF\r\n")
    s.sendall(b"ma cnt N0 J10 D3 v\r\n")
    read_until(s, b"\r\n10\r\n")
    s.sendall(b"ma cnt D3 v\r\n")
    read_until(s, b"\r\n13\r\n")
    s.sendall(b"me k1\r\n")
    read_until(s, b"\r\n")
    # quiet pipeline: stored (no reply), miss (no reply), hit, not stored, delete hit (no reply), miss; mn
    s.sendall(b"ms q1 2 q\r\nab\r\nmg nokey v q\r\nmg q1 v k q\r\nms q1 1 ME q O4\r\nx\r\nmd q1 q\r\n"
              b"md q1 q O6\r\nmn\r\n")
    read_until(s, b"MN\r\n")
    s.sendall(b"mg k1 v !\r\n")
    read_until(s, b"\r\n")
    s.sendall(b"mn\r\n")
    read_until(s, b"MN\r\n")
    s.sendall(b"quit\r\n")
    s.close()


if __name__ == "__main__":
    {"tcp-quiet": tcp_quiet, "udp": udp, "udp-multi": udp_multi, "meta": meta}[sys.argv[1]](int(sys.argv[2]))
