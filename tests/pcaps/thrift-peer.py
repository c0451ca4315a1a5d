#!/usr/bin/python3
"""Server and client of tests/pcaps/make-thrift.sh (Debian's python3-thrift).

  thrift-peer.py server GENDIR PORT PROTOCOL TRANSPORT
  thrift-peer.py client GENDIR PORT PROTOCOL TRANSPORT
  thrift-peer.py load GENDIR PORT PROTOCOL TRANSPORT CALLS SECONDS

PROTOCOL: binary | binary-old (no version in the headers) | compact;
TRANSPORT: buffered | framed. GENDIR holds the code thrift-compiler
generated from thrift/store.thrift. The client prints "calls=N oneway=M
exceptions=E" (what it sent and what failed); load (bench/thrift.sh) makes
CALLS calls of a small mix, stopping after SECONDS, and prints "calls=N".
"""
import logging
import sys
import time

logging.disable(logging.CRITICAL)  # the failing handler is meant to fail
sys.path.insert(0, sys.argv[2])

from thrift.protocol import TBinaryProtocol, TCompactProtocol  # noqa: E402
from thrift.server import TServer  # noqa: E402
from thrift.Thrift import TApplicationException  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402
from xdpshared.ttypes import SharedStruct  # noqa: E402
from xdpstore import Store  # noqa: E402
from xdpstore.ttypes import Color, Invalid, Item, NotFound  # noqa: E402


class OldBinaryProtocol(TBinaryProtocol.TBinaryProtocol):
    """Headers without a version both ways. python3-thrift 0.17 returns the
    name of such a header as bytes, which its own writer then rejects."""

    def readMessageBegin(self):
        name, type, seqid = super().readMessageBegin()
        return (name.decode() if isinstance(name, bytes) else name), type, seqid


class OldBinaryProtocolFactory:
    def getProtocol(self, trans):
        return OldBinaryProtocol(trans, strictRead=False, strictWrite=False)


def protocol_factory(name):
    if name == "compact":
        return TCompactProtocol.TCompactProtocolFactory()
    if name == "binary-old":
        return OldBinaryProtocolFactory()
    return TBinaryProtocol.TBinaryProtocolFactory()


def transport_factory(name):
    if name == "framed":
        return TTransport.TFramedTransportFactory()
    return TTransport.TBufferedTransportFactory()


def item(i):
    return Item(id=i, name="item %d" % i, tags=["red", "small"], counts={"seen": i, "sold": 2},
                codes={7}, price=9.75, active=True, created=1700000000123, flags=-3,
                blob=b"\xab\x0c\x1d\x28\x1a\x00", color=Color.GREEN)


class Handler:
    def ping(self):
        pass

    def add(self, num1, num2):
        return num1 + num2

    def getItem(self, id):
        if id < 0:
            raise Invalid(why="negative id")
        if id > 100:
            raise NotFound(code=404, message="no item %d" % id)
        return item(id)

    def listItems(self, ids, filter):
        return [item(i) for i in ids]

    def tags(self, names):
        return set(n.upper() for n in names)

    def putItem(self, item):
        return True

    def log(self, line, level):
        pass

    def echo(self, s):
        return s

    def average(self, values):
        return sum(values) / len(values)

    def nested(self, deep):
        return {len(m): sorted(m) for m in deep}

    def fail(self):
        raise RuntimeError("the handler failed")

    def getStruct(self, key):
        return SharedStruct(key=key, value="shared %d" % key)


def serve(port, proto, transport):
    sock = TSocket.TServerSocket(host="127.0.0.1", port=port)
    server = TServer.TSimpleServer(Store.Processor(Handler()), sock, transport_factory(transport),
                                   protocol_factory(proto))
    server.serve()


def calls(c):
    """Every call once; returns (calls, oneway, exceptions)."""
    n = oneway = exc = 0
    c.ping()
    c.add(10, -3)
    c.getItem(1)
    for bad in (101, -1):
        try:
            c.getItem(bad)
        except (NotFound, Invalid):
            exc += 1
    c.listItems(list(range(20)), {"color": "green", "quote": 'say "hi"\n'})
    c.tags({"a", "b"})
    c.putItem(item(5))
    c.log("a oneway line", 2)
    oneway += 1
    c.echo("x" * 300)
    c.echo("")
    c.echo("h\u00e9llo w\u00f6rld")
    c.average([1.5, 2.25, 1e21, -0.1])
    c.nested([{"k": {1, 2}}, {}])
    try:
        c.fail()
    except TApplicationException:
        exc += 1
    c.getStruct(7)
    n = 16
    return n, oneway, exc


def client(port, proto, transport):
    sock = TSocket.TSocket("127.0.0.1", port)
    trans = transport_factory(transport).getTransport(sock)
    c = Store.Client(protocol_factory(proto).getProtocol(trans))
    trans.open()
    n, oneway, exc = calls(c)
    trans.close()
    print("calls=%d oneway=%d exceptions=%d" % (n, oneway, exc))


def load(port, proto, transport, ncalls, seconds):
    sock = TSocket.TSocket("127.0.0.1", port)
    trans = transport_factory(transport).getTransport(sock)
    c = Store.Client(protocol_factory(proto).getProtocol(trans))
    trans.open()
    deadline = time.time() + seconds
    n = 0
    while n < ncalls and time.time() < deadline:
        c.add(n, 1)
        c.getItem(n % 100)
        c.echo("hello %d" % n)
        c.tags({"a", "b"})
        n += 4
    trans.close()
    print("calls=%d" % n)


def main():
    role, port, proto, transport = sys.argv[1], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    if role == "server":
        serve(port, proto, transport)
    elif role == "load":
        load(port, proto, transport, int(sys.argv[6]), float(sys.argv[7]))
    else:
        client(port, proto, transport)


if __name__ == "__main__":
    main()
