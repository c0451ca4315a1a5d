"""Ethernet/IPv4/TCP frames for the attack generators (tests/attack/gen_attack.py,
live_gen.py). TCP checksums are left 0: a receiving kernel drops such segments
without answering, while the sensor, which does not check them, sees them."""
import struct

SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
DST_MAC = b"\x02\x00\x00\x00\x00\x02"
SRC_MAC = b"\x02\x00\x00\x00\x00\x01"


def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def tcp_frame(src, sport, dst, dport, seq, ack, flags, payload=b"", smac=SRC_MAC, dmac=DST_MAC):
    """One frame; src and dst are 4-byte addresses."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + tcp + payload
