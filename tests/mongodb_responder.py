#!/usr/bin/python3
"""A small in-memory MongoDB wire-protocol server for xdpbeat's tests.

There is no MongoDB server in Debian; this answers what the official drivers
send, on loopback only, for a bounded time:
  hello / isMaster (maxWireVersion from --wire: >= 6 makes drivers use OP_MSG,
  lower makes pymongo 3.11 use OP_QUERY commands and the legacy write opcodes
  for unacknowledged writes), buildInfo, ping, endSessions, getLastError,
  insert / find / getMore / killCursors / update / delete / count / distinct /
  aggregate ($match only), errors (unknown commands, duplicate _id as
  writeErrors, a writeConcern w > 1 as writeConcernError, $err on a legacy
  query of the collection "bad"), OP_MSG moreToCome requests (no reply),
  exhaustAllowed getMore (replies streamed with moreToCome), and
  OP_COMPRESSED (noop, snappy, zlib, zstd) when the client offers one in its
  handshake: replies are then compressed with the compressor of the request.

Usage: mongodb_responder.py PORT [--wire N] [--seconds S] [--compressors a,b]
Prints "listening PORT" once it accepts connections.
"""
import argparse
import itertools
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib

import bson
from bson.son import SON

try:
    import snappy
except ImportError:
    snappy = None
try:
    import zstandard
except ImportError:
    zstandard = None

OP_REPLY, OP_UPDATE, OP_INSERT, OP_QUERY = 1, 2001, 2002, 2004
OP_GET_MORE, OP_DELETE, OP_KILL_CURSORS, OP_COMPRESSED, OP_MSG = 2005, 2006, 2007, 2012, 2013
MORE_TO_COME, EXHAUST_ALLOWED = 0x2, 0x10000
COMPRESSOR_IDS = {"noop": 0, "snappy": 1, "zlib": 2, "zstd": 3}
MAX_MESSAGE = 48 * 1000 * 1000
DEBUG = False

request_ids = itertools.count(1)
cursor_ids = itertools.count(1000)
lock = threading.Lock()
collections = {}  # "db.coll" -> list of documents
cursors = {}  # id -> (ns, remaining documents)


def compress(name, data):
    if name == "zlib":
        return zlib.compress(data)
    if name == "snappy":
        return snappy.compress(data)
    if name == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def decompress(cid, data, size):
    if cid == 0:
        return data
    if cid == 1:
        return snappy.uncompress(data)
    if cid == 2:
        return zlib.decompress(data)
    if cid == 3:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=size)
    raise ValueError("compressor %d" % cid)


def matches(doc, flt):
    for k, v in (flt or {}).items():
        if isinstance(v, dict) and v and all(key.startswith("$") for key in v):
            have = doc.get(k)
            for op, arg in v.items():
                ok = {"$gt": lambda: have is not None and have > arg,
                      "$gte": lambda: have is not None and have >= arg,
                      "$lt": lambda: have is not None and have < arg,
                      "$lte": lambda: have is not None and have <= arg,
                      "$ne": lambda: have != arg,
                      "$in": lambda: have in arg,
                      "$exists": lambda: (k in doc) == bool(arg)}.get(op, lambda: False)()
                if not ok:
                    return False
        elif doc.get(k) != v:
            return False
    return True


def apply_update(doc, upd):
    if any(k.startswith("$") for k in upd):
        for k, v in upd.get("$set", {}).items():
            doc[k] = v
        for k, v in upd.get("$inc", {}).items():
            doc[k] = doc.get(k, 0) + v
        for k in upd.get("$unset", {}):
            doc.pop(k, None)
    else:
        keep = doc.get("_id")
        doc.clear()
        doc.update(upd)
        if keep is not None:
            doc.setdefault("_id", keep)


class Server:
    def __init__(self, wire, compressors):
        self.wire = wire
        self.compressors = compressors

    # ---- commands ----
    def hello(self, cmd, db, conn):
        offered = cmd.get("compression", [])
        conn.compressors = [c for c in offered if c in self.compressors]
        reply = SON([("ismaster", True), ("isWritablePrimary", True), ("maxBsonObjectSize", 16777216),
                     ("maxMessageSizeBytes", MAX_MESSAGE), ("maxWriteBatchSize", 100000),
                     ("localTime", bson.datetime.datetime(2026, 12, 2, 12, 0, 0)),
                     ("minWireVersion", 0), ("maxWireVersion", self.wire), ("readOnly", False),
                     ("connectionId", conn.number)])
        if self.wire >= 6:
            reply["logicalSessionTimeoutMinutes"] = 30
        if conn.compressors:
            reply["compression"] = conn.compressors
        reply["ok"] = 1.0
        return reply

    def find(self, cmd, db, conn):
        ns = "%s.%s" % (db, cmd["find"])
        if cmd["find"] == "fail":
            return SON([("ok", 0.0), ("errmsg", "find failed on purpose"), ("code", 2), ("codeName", "BadValue")])
        with lock:
            docs = [d for d in collections.get(ns, []) if matches(d, cmd.get("filter"))]
        docs = docs[int(cmd.get("skip", 0)):]
        if cmd.get("limit"):
            docs = docs[:abs(int(cmd["limit"]))]
        return self.cursor_reply(ns, docs, cmd.get("batchSize"), "firstBatch")

    def cursor_reply(self, ns, docs, batch, key):
        batch = int(batch) if batch else 101
        first, rest = docs[:batch], docs[batch:]
        cid = 0
        if rest:
            cid = next(cursor_ids)
            with lock:
                cursors[cid] = (ns, rest)
        return SON([("cursor", SON([(key, first), ("id", bson.int64.Int64(cid)), ("ns", ns)])), ("ok", 1.0)])

    def get_more(self, cmd, db, conn):
        cid = int(cmd["getMore"])
        with lock:
            ns, rest = cursors.pop(cid, (None, None))
        if ns is None:
            return SON([("ok", 0.0), ("errmsg", "cursor id %d not found" % cid), ("code", 43),
                        ("codeName", "CursorNotFound")])
        batch = int(cmd.get("batchSize") or 101)
        first, rest = rest[:batch], rest[batch:]
        if rest:
            with lock:
                cursors[cid] = (ns, rest)
        else:
            cid = 0
        return SON([("cursor", SON([("nextBatch", first), ("id", bson.int64.Int64(cid)), ("ns", ns)])),
                    ("ok", 1.0)])

    def kill_cursors(self, cmd, db, conn):
        killed = []
        with lock:
            for cid in cmd.get("cursors", []):
                if cursors.pop(int(cid), None):
                    killed.append(cid)
        return SON([("cursorsKilled", killed), ("cursorsNotFound", []), ("cursorsAlive", []),
                    ("cursorsUnknown", []), ("ok", 1.0)])

    def write_concern(self, cmd, reply):
        wc = cmd.get("writeConcern") or {}
        if isinstance(wc.get("w"), int) and wc["w"] > 1:
            reply["writeConcernError"] = SON([("code", 100), ("codeName", "UnsatisfiableWriteConcern"),
                                              ("errmsg", "Not enough data-bearing nodes")])
        return reply

    def insert(self, cmd, db, conn):
        ns = "%s.%s" % (db, cmd["insert"])
        return self.write_concern(cmd, self.do_insert(ns, cmd.get("documents", [])))

    def do_insert(self, ns, docs):
        n, errors = 0, []
        with lock:
            coll = collections.setdefault(ns, [])
            for i, d in enumerate(docs):
                if "_id" in d and any(e.get("_id") == d["_id"] for e in coll):
                    errors.append(SON([("index", i), ("code", 11000),
                                       ("errmsg", "E11000 duplicate key error collection: %s index: _id_ "
                                                  "dup key: { _id: %r }" % (ns, d["_id"]))]))
                    continue
                coll.append(d)
                n += 1
        reply = SON([("n", n)])
        if errors:
            reply["writeErrors"] = errors
        reply["ok"] = 1.0
        return reply

    def update(self, cmd, db, conn):
        ns = "%s.%s" % (db, cmd["update"])
        return self.write_concern(cmd, self.do_update(ns, cmd.get("updates", [])))

    def do_update(self, ns, updates):
        n = modified = 0
        with lock:
            coll = collections.setdefault(ns, [])
            for u in updates:
                hit = [d for d in coll if matches(d, u.get("q"))]
                if not u.get("multi"):
                    hit = hit[:1]
                if not hit and u.get("upsert"):
                    d = dict(u.get("q") or {})
                    apply_update(d, u.get("u", {}))
                    coll.append(d)
                    n += 1
                for d in hit:
                    apply_update(d, u.get("u", {}))
                    n += 1
                    modified += 1
        return SON([("n", n), ("nModified", modified), ("ok", 1.0)])

    def delete(self, cmd, db, conn):
        ns = "%s.%s" % (db, cmd["delete"])
        return self.write_concern(cmd, self.do_delete(ns, cmd.get("deletes", [])))

    def do_delete(self, ns, deletes):
        n = 0
        with lock:
            coll = collections.setdefault(ns, [])
            for d in deletes:
                hit = [x for x in coll if matches(x, d.get("q"))]
                if d.get("limit"):
                    hit = hit[:1]
                for x in hit:
                    coll.remove(x)
                    n += 1
        return SON([("n", n), ("ok", 1.0)])

    def count(self, cmd, db, conn):
        ns = "%s.%s" % (db, cmd["count"])
        with lock:
            n = sum(1 for d in collections.get(ns, []) if matches(d, cmd.get("query")))
        return SON([("n", n), ("ok", 1.0)])

    def distinct(self, cmd, db, conn):
        ns = "%s.%s" % (db, cmd["distinct"])
        values = []
        with lock:
            for d in collections.get(ns, []):
                v = d.get(cmd["key"])
                if v is not None and matches(d, cmd.get("query")) and v not in values:
                    values.append(v)
        return SON([("values", values), ("ok", 1.0)])

    def aggregate(self, cmd, db, conn):
        ns = "%s.%s" % (db, cmd["aggregate"])
        with lock:
            docs = list(collections.get(ns, []))
        for stage in cmd.get("pipeline", []):
            if "$match" in stage:
                docs = [d for d in docs if matches(d, stage["$match"])]
            elif "$count" in stage:
                docs = [SON([(stage["$count"], len(docs))])]
            else:
                return SON([("ok", 0.0), ("errmsg", "Unrecognized pipeline stage name: '%s'" % next(iter(stage))),
                            ("code", 40324), ("codeName", "Location40324")])
        return self.cursor_reply(ns, docs, (cmd.get("cursor") or {}).get("batchSize"), "firstBatch")

    def simple(self, reply):
        return lambda cmd, db, conn: SON(list(reply.items()) + [("ok", 1.0)])

    def command(self, cmd, db, conn):
        name = next(iter(cmd))
        table = {
            "hello": self.hello, "isMaster": self.hello, "ismaster": self.hello,
            "buildInfo": self.simple({"version": "6.0.0" if self.wire >= 17 else "3.4.0",
                                      "versionArray": [6, 0, 0, 0]}),
            "buildinfo": self.simple({"version": "3.4.0"}),
            "ping": self.simple({}), "endSessions": self.simple({}),
            "getLastError": self.simple({"n": 0, "err": None}),
            "find": self.find, "getMore": self.get_more, "killCursors": self.kill_cursors,
            "insert": self.insert, "update": self.update, "delete": self.delete,
            "count": self.count, "distinct": self.distinct, "aggregate": self.aggregate,
        }
        handler = table.get(name)
        if handler is None:
            return SON([("ok", 0.0), ("errmsg", "no such command: '%s'" % name), ("code", 59),
                        ("codeName", "CommandNotFound")])
        return handler(cmd, db, conn)


class Conn(socketserver.BaseRequestHandler):
    numbers = itertools.count(1)

    def setup(self):
        self.compressors = []
        self.number = next(Conn.numbers)

    def read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def send(self, opcode, body, response_to, compressor):
        rid = next(request_ids)
        if compressor is not None:
            packed = compress(compressor, body)
            body = struct.pack("<iiB", opcode, len(body), COMPRESSOR_IDS[compressor]) + packed
            opcode = OP_COMPRESSED
        self.request.sendall(struct.pack("<iiii", 16 + len(body), rid, response_to, opcode) + body)
        return rid

    def send_msg(self, doc, response_to, compressor, flags=0):
        return self.send(OP_MSG, struct.pack("<IB", flags, 0) + bson.encode(doc), response_to, compressor)

    def send_reply(self, docs, response_to, compressor, cursor_id=0, flags=0, starting_from=0):
        body = struct.pack("<iqii", flags, cursor_id, starting_from, len(docs)) + b"".join(bson.encode(d) for d in docs)
        return self.send(OP_REPLY, body, response_to, compressor)

    def handle(self):
        srv = self.server.app
        self.request.settimeout(self.server.deadline - time.time())
        try:
            while time.time() < self.server.deadline:
                length, rid, _, opcode = struct.unpack("<iiii", self.read(16))
                if length < 16 or length > MAX_MESSAGE:
                    return
                body = self.read(length - 16)
                compressor = None
                if opcode == OP_COMPRESSED:
                    opcode, size, cid = struct.unpack("<iiB", body[:9])
                    body = decompress(cid, body[9:], size)
                    compressor = {v: k for k, v in COMPRESSOR_IDS.items()}[cid]
                if DEBUG:
                    print("op", opcode, len(body), body[:80], file=sys.stderr, flush=True)
                self.dispatch(srv, opcode, rid, body, compressor)
        except (EOFError, ConnectionError, socket.timeout):
            return
        except Exception as e:  # a bug here or a request this server does not know: say so and close
            print("mongodb_responder: connection %d: %r" % (self.number, e), file=sys.stderr, flush=True)

    def dispatch(self, srv, opcode, rid, body, compressor):
        if opcode == OP_MSG:
            self.op_msg(srv, rid, body, compressor)
        elif opcode == OP_QUERY:
            self.op_query(srv, rid, body, compressor)
        elif opcode == OP_GET_MORE:
            _, rest = struct.unpack("<i", body[:4]), body[4:]
            ns, rest = rest.split(b"\0", 1)
            n, cid = struct.unpack("<iq", rest[:12])
            reply = srv.get_more({"getMore": cid, "batchSize": n}, None, self)
            c = reply.get("cursor")
            if c is None:
                self.send_reply([], rid, compressor, flags=1)  # CursorNotFound
            else:
                self.send_reply(c["nextBatch"], rid, compressor, cursor_id=c["id"])
        elif opcode == OP_KILL_CURSORS:
            _, n = struct.unpack("<ii", body[:8])
            srv.kill_cursors({"cursors": list(struct.unpack("<%dq" % n, body[8:8 + 8 * n]))}, None, self)
        elif opcode in (OP_INSERT, OP_UPDATE, OP_DELETE):
            self.legacy_write(srv, opcode, body)

    def op_msg(self, srv, rid, body, compressor):
        flags = struct.unpack("<I", body[:4])[0]
        pos, end = 4, len(body) - (4 if flags & 1 else 0)
        cmd = None
        while pos < end:
            kind = body[pos]
            pos += 1
            if kind == 0:
                size = struct.unpack("<i", body[pos:pos + 4])[0]
                cmd = bson.decode(body[pos:pos + size], codec_options=bson.CodecOptions(document_class=SON))
                pos += size
            else:
                size = struct.unpack("<i", body[pos:pos + 4])[0]
                section = body[pos + 4:pos + size]
                ident, docs = section.split(b"\0", 1)
                seq = list(bson.decode_iter(docs, codec_options=bson.CodecOptions(document_class=SON)))
                pos += size
                self.pending = (ident.decode(), seq)
        if getattr(self, "pending", None):
            cmd[self.pending[0]] = self.pending[1]
            self.pending = None
        db = cmd.get("$db", "admin")
        reply = srv.command(cmd, db, self)
        if flags & MORE_TO_COME:
            return
        if next(iter(cmd)) == "getMore" and flags & EXHAUST_ALLOWED and reply.get("ok"):
            self.exhaust(srv, cmd, db, reply, rid, compressor)
            return
        self.send_msg(reply, rid, compressor)

    def exhaust(self, srv, cmd, db, reply, rid, compressor):
        # Each reply but the last has moreToCome; each answers the previous one.
        while reply.get("ok") and reply["cursor"]["id"]:
            rid = self.send_msg(reply, rid, compressor, MORE_TO_COME)
            reply = srv.get_more(cmd, db, self)
        self.send_msg(reply, rid, compressor)

    def op_query(self, srv, rid, body, compressor):
        flags = struct.unpack("<i", body[:4])[0]
        ns, rest = body[4:].split(b"\0", 1)
        ns = ns.decode()
        skip, n = struct.unpack("<ii", rest[:8])
        query = bson.decode(rest[8:8 + struct.unpack("<i", rest[8:12])[0]],
                            codec_options=bson.CodecOptions(document_class=SON))
        db, coll = ns.split(".", 1)
        if coll == "$cmd":
            cmd = query.get("$query", query)
            self.send_reply([srv.command(cmd, db, self)], rid, compressor)
            return
        if coll == "bad":
            self.send_reply([SON([("$err", "legacy query failed on purpose"), ("code", 17287)])], rid, compressor,
                            flags=2)  # QueryFailure
            return
        flt = query.get("$query", query)
        reply = srv.find({"find": coll, "filter": flt, "skip": skip, "batchSize": abs(n) or None}, db, self)
        c = reply["cursor"]
        self.send_reply(c["firstBatch"], rid, compressor, cursor_id=c["id"], starting_from=skip)
        del flags

    def legacy_write(self, srv, opcode, body):
        ns, rest = body[4:].split(b"\0", 1)
        ns = ns.decode()
        opts = bson.CodecOptions(document_class=SON)
        if opcode == OP_INSERT:
            srv.do_insert(ns, list(bson.decode_iter(rest, codec_options=opts)))
        elif opcode == OP_UPDATE:
            flags = struct.unpack("<i", rest[:4])[0]
            sel, upd = list(bson.decode_iter(rest[4:], codec_options=opts))
            srv.do_update(ns, [{"q": sel, "u": upd, "upsert": bool(flags & 1), "multi": bool(flags & 2)}])
        else:
            flags = struct.unpack("<i", rest[:4])[0]
            sel = bson.decode(rest[4:], codec_options=opts)
            srv.do_delete(ns, [{"q": sel, "limit": 1 if flags & 1 else 0}])


class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--wire", type=int, default=17)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--compressors", default="zlib,zstd,snappy")
    a = ap.parse_args()
    # Started in the background by a script, SIGINT may come ignored: stop on it and on SIGTERM.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    have = {"zlib": True, "zstd": zstandard is not None, "snappy": snappy is not None}
    comps = [c for c in a.compressors.split(",") if c and have.get(c)]
    srv = TCPServer(("127.0.0.1", a.port), Conn)
    srv.app = Server(a.wire, comps)
    srv.deadline = time.time() + a.seconds
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("listening %d" % a.port, flush=True)
    while time.time() < srv.deadline:
        time.sleep(0.2)
    srv.shutdown()


if __name__ == "__main__":
    main()
