"""A one-shot DNS responder for tests/e2e/live_udp.sh: answers the first
query on 127.0.0.1:PORT with one TXT record of about 6 KB (a datagram
larger than one ring-buffer record), then exits (or after 20 s).
usage: live_dns_big.py PORT"""
import socket
import struct
import sys

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
sock.settimeout(20)
try:
    query, peer = sock.recvfrom(4096)
except socket.timeout:
    sys.exit(1)
qid = query[:2]
question = query[12:]
end = question.index(b"\0") + 5  # name, type, class
question = question[:end]
strings = b"".join(bytes([200]) + bytes([0x61 + i % 26]) * 200 for i in range(30))
answer = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(strings)) + strings
header = qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
sock.sendto(header + question + answer, peer)
