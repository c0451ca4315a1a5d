#!/usr/bin/python3
"""Seed corpora for the libFuzzer targets from the committed pcaps.

lf_pipeline: the first connection of each pcap (its first 4 KiB of payload)
in the target's record format; lf_decode: a few whole frames per pcap.
Usage: tests/fuzz/make-corpus.py  (writes tests/fuzz/corpus/{pipeline,decode}/)
"""
import glob
import hashlib
import os
import struct

PORTS = [80, 53, 11211, 6379, 3306, 9090, 5432, 27017, 1234]
# The goldens use private ports: the pcap's name says which parser it is for.
BY_NAME = {"http": 80, "dns": 53, "memcache": 11211, "redis": 6379, "mysql": 3306,
           "thrift": 9090, "pgsql": 5432, "mongodb": 27017}
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack("<I", data[:4])
    if magic != 0xA1B2C3D4:
        return
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def l4(frame):
    """(proto, sport, dport, payload, syn) of an Ethernet IPv4/IPv6 frame, or None."""
    if len(frame) < 14:
        return None
    et, = struct.unpack(">H", frame[12:14])
    ip = frame[14:]
    if et == 0x0800 and len(ip) >= 20:
        hl, proto, tot = (ip[0] & 15) * 4, ip[9], struct.unpack(">H", ip[2:4])[0]
        body = ip[hl:tot]
    elif et == 0x86DD and len(ip) >= 40:
        proto, body = ip[6], ip[40:40 + struct.unpack(">H", ip[4:6])[0]]
    else:
        return None
    if proto == 6 and len(body) >= 20:
        sp, dp = struct.unpack(">HH", body[:4])
        return 6, sp, dp, body[(body[12] >> 4) * 4:], body[13]
    if proto == 17 and len(body) >= 8:
        sp, dp = struct.unpack(">HH", body[:4])
        return 17, sp, dp, body[8:], 0
    return None


def write(target, blob):
    d = os.path.join(ROOT, "tests", "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(blob).hexdigest()[:16]), "wb") as f:
        f.write(blob)


def main():
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "pcaps", "*.pcap"))):
        name = os.path.basename(path).split("-")[0].split(".")[0]
        if name not in BY_NAME:
            continue
        flow, server, out, size = None, None, bytearray(), 0
        for i, fr in enumerate(frames(path)):
            if i < 3:
                write("decode", bytes([1, 0]) + fr)
            p = l4(fr)
            if not p:
                continue
            proto, sp, dp, pl, flags = p
            key = (proto, frozenset((sp, dp)))
            if flow is None:  # the first packet goes to the server
                flow, server = key, dp
                out.append(PORTS.index(BY_NAME[name]) | (0x10 if proto == 17 else 0))
            if key != flow:
                continue
            d = 0 if dp == server else 1
            if flags & 0x02:
                out += bytes([(1 if d == 0 else 2) << 1 | d, 0])
                continue
            for k in range(0, len(pl), 255):
                piece = pl[k:k + 255]
                out += bytes([d, len(piece)]) + piece
                size += len(piece)
            if flags & 0x01:
                out += bytes([3 << 1 | d, 0])
            if size > 4096:
                break
        if len(out) > 1:
            write("pipeline", bytes(out))


if __name__ == "__main__":
    main()
