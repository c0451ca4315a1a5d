#!/usr/bin/python3
"""Small Redis client for the pcap generator (tests/pcaps/make-redis.sh), for
the exchanges redis-cli cannot script exactly.

  big PORT           a 20000-byte value with the MSS at 1400 bytes, so the
                     request and the reply each cross several TCP segments
                     (on lo, GSO packets of a few MSS): SET big, GET big,
                     STRLEN big
  pubsub PORT        RESP2 pub/sub: SUBSCRIBE news weather, PSUBSCRIBE w*,
                     messages published by a second client (message and
                     pmessage pushes), PING while subscribed, UNSUBSCRIBE
                     (no argument: one confirmation per channel),
                     PUNSUBSCRIBE, then a plain GET
  resp3 PORT         HELLO 3, then replies of every RESP3 type: a map
                     (HGETALL), a set (SMEMBERS), a double (ZSCORE), null,
                     and from DEBUG PROTOCOL a verbatim string, booleans, a
                     big number, a map of booleans, an attribute before its
                     reply and a push before its reply
  resp3-pubsub PORT  HELLO 3, SUBSCRIBE alerts, a message push published by
                     a second client, a GET answered while subscribed,
                     UNSUBSCRIBE alerts
"""
import socket
import sys
import time


def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port, mss=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if mss:
            self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        self.s.settimeout(10)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""

    def send(self, *args):
        self.s.sendall(command(*args))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise SystemExit("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(65536)
            if not chunk:
                raise SystemExit("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        """One reply (any RESP2/RESP3 type) as Python values."""
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"_":
            return None
        if t in (b"+", b"-", b":", b",", b"(", b"#"):
            return rest
        if t in (b"$", b"=", b"!"):
            n = int(rest)
            return None if n < 0 else self._bytes(n)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        if t == b"%":
            return [(self.reply(), self.reply()) for _ in range(int(rest))]
        if t == b"|":  # an attribute: metadata, then the reply itself
            [(self.reply(), self.reply()) for _ in range(int(rest))]
            return self.reply()
        raise SystemExit("unexpected reply %r" % line)

    def call(self, *args):
        self.send(*args)
        return self.reply()

    def close(self):
        self.s.close()


def big(port):
    c = Conn(port, mss=1400)
    value = b"".join(b"%05d:" % i + b"x" * 14 for i in range(1000))  # 20000 bytes
    assert c.call("SET", "big", value) == b"OK"
    assert c.call("GET", "big") == value
    assert c.call("STRLEN", "big") == b"20000"
    c.close()


def pubsub(port):
    sub, pub = Conn(port), Conn(port)
    sub.send("SUBSCRIBE", "news", "weather")
    assert sub.reply()[0] == b"subscribe" and sub.reply()[0] == b"subscribe"
    assert sub.call("PSUBSCRIBE", "w*")[0] == b"psubscribe"
    assert pub.call("PUBLISH", "news", "extra extra") == b"1"
    assert sub.reply() == [b"message", b"news", b"extra extra"]
    assert pub.call("PUBLISH", "weather", "rain") == b"2"
    got = [sub.reply(), sub.reply()]
    assert sorted(x[0] for x in got) == [b"message", b"pmessage"]
    assert sub.call("PING") == [b"pong", b""]
    sub.send("UNSUBSCRIBE")
    assert [sub.reply()[2] for _ in range(2)] == [b"2", b"1"]
    assert sub.call("PUNSUBSCRIBE") == [b"punsubscribe", b"w*", b"0"]
    assert sub.call("GET", "news") is None
    pub.close()
    sub.close()


def resp3(port):
    c = Conn(port)
    assert dict(c.call("HELLO", "3"))[b"proto"] == b"3"
    assert c.call("SADD", "colors", "red", "green") == b"2"
    assert c.call("ZADD", "scores", "1.5", "ada") == b"1"
    assert dict(c.call("HGETALL", "user:1"))[b"name"] == b"Ada"
    assert sorted(c.call("SMEMBERS", "colors")) == [b"green", b"red"]
    assert c.call("ZSCORE", "scores", "ada") == b"1.5"
    assert c.call("GET", "missing") is None
    assert c.call("DEBUG", "PROTOCOL", "verbatim") == b"txt:This is a verbatim\nstring"
    assert c.call("DEBUG", "PROTOCOL", "true") == b"t"
    assert c.call("DEBUG", "PROTOCOL", "false") == b"f"
    assert c.call("DEBUG", "PROTOCOL", "bignum") == b"1234567999999999999999999999999999999"
    assert len(c.call("DEBUG", "PROTOCOL", "map")) == 3
    assert c.call("DEBUG", "PROTOCOL", "attrib") == b"Some real reply following the attribute"
    c.send("DEBUG", "PROTOCOL", "push")
    assert c.reply() == [b"server-cpu-usage", b"42"]  # the push comes first
    assert c.reply() == b"Some real reply following the push reply"
    c.close()


def resp3_pubsub(port):
    sub, pub = Conn(port), Conn(port)
    hello = sub.call("HELLO", "3")
    assert dict(hello)[b"proto"] == b"3"
    assert sub.call("SUBSCRIBE", "alerts") == [b"subscribe", b"alerts", b"1"]
    assert pub.call("PUBLISH", "alerts", "disk full") == b"1"
    assert sub.reply() == [b"message", b"alerts", b"disk full"]
    time.sleep(0.05)
    assert sub.call("GET", "alerts") is None
    assert sub.call("UNSUBSCRIBE", "alerts") == [b"unsubscribe", b"alerts", b"0"]
    pub.close()
    sub.close()


if __name__ == "__main__":
    {"big": big, "pubsub": pubsub, "resp3": resp3, "resp3-pubsub": resp3_pubsub}[sys.argv[1]](int(sys.argv[2]))
