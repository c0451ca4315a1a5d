"""memcached client for tests/e2e/live_udp.sh: text protocol over TCP (set,
get, delete) and over UDP with memcached's 8-byte frame header (set, get).
usage: live_memcache_client.py PORT (exits non-zero on an unexpected answer)"""
import socket
import struct
import sys

port = int(sys.argv[1])


def rpc(sock, data, end):
    sock.sendall(data)
    buf = b""
    while not buf.endswith(end):
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


tcp = socket.create_connection(("127.0.0.1", port), 5)
assert rpc(tcp, b"set live 0 0 5\r\nhello\r\n", b"\r\n") == b"STORED\r\n"
assert rpc(tcp, b"get live\r\n", b"END\r\n").startswith(b"VALUE live 0 5")
assert rpc(tcp, b"delete live\r\n", b"\r\n") == b"DELETED\r\n"
tcp.close()

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.settimeout(3)
for rid, cmd in ((7, b"set udpkey 0 0 3\r\nabc\r\n"), (8, b"get udpkey\r\n")):
    udp.sendto(struct.pack("!HHHH", rid, 0, 1, 0) + cmd, ("127.0.0.1", port))
    data, _ = udp.recvfrom(65536)
    assert struct.unpack("!H", data[:2])[0] == rid, "wrong request id"
