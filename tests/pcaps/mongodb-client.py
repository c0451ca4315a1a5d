#!/usr/bin/python3
"""pymongo (Debian's python3-pymongo 3.11) against tests/mongodb_responder.py.

  mongodb-client.py PORT MODE [COMPRESSOR]
MODE: load N SECONDS: N insert/find/update commands (at most SECONDS) for
the benchmark; msg (the server says maxWireVersion 17: OP_MSG, exhaust over OP_MSG,
moreToCome for w=0), query (wire 5: commands in OP_QUERY, legacy opcodes for
w=0 writes), legacy (wire 3: OP_QUERY finds and OP_GET_MORE). Prints one line
"started=N succeeded=N failed=N" from pymongo's command monitoring.
"""
import sys

import pymongo
from pymongo import monitoring
from pymongo.errors import DuplicateKeyError, OperationFailure, WriteConcernError


class Listener(monitoring.CommandListener):
    def __init__(self):
        self.n = {"started": 0, "succeeded": 0, "failed": 0}

    def started(self, event):
        self.n["started"] += 1

    def succeeded(self, event):
        self.n["succeeded"] += 1

    def failed(self, event):
        self.n["failed"] += 1


def expect_error(fn, *errors):
    try:
        fn()
    except errors:
        return
    raise SystemExit("expected an error")


def load(db, n, seconds):
    """n commands (insert, find, update in turn), at most seconds; prints the count."""
    import time

    deadline, done = time.time() + seconds, 0
    while done < n and time.time() < deadline:
        i = done // 3
        step = done % 3
        if step == 0:
            db.load.insert_one({"_id": i, "name": "load %d" % i, "n": i})
        elif step == 1:
            db.load.find_one({"_id": i})
        else:
            db.load.update_one({"_id": i}, {"$set": {"n": i + 1}})
        done += 1
    print("commands=%d" % done)


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    compressor = sys.argv[3] if len(sys.argv) > 3 else None
    listener = Listener()
    kw = dict(directConnection=True, heartbeatFrequencyMS=60000, serverSelectionTimeoutMS=5000,
              event_listeners=[listener], maxPoolSize=1)
    if compressor and mode != "load":
        kw["compressors"] = compressor
    client = pymongo.MongoClient("127.0.0.1", port, **kw)
    db = client.shop
    if mode == "load":
        load(db, int(sys.argv[3]), float(sys.argv[4]))
        return
    items = db.items
    items.insert_many([{"_id": i, "name": "item %d" % i, "qty": i * 3, "tags": ["a", "b"][: i % 3]}
                       for i in range(1, 8)])
    expect_error(lambda: items.insert_one({"_id": 1, "name": "again"}), DuplicateKeyError)
    list(items.find({"qty": {"$gt": 5}}, batch_size=2))
    items.update_one({"_id": 2}, {"$set": {"qty": 100}})
    items.update_many({"qty": {"$lt": 10}}, {"$inc": {"qty": 1}})
    items.delete_one({"_id": 7})
    db.command("count", "items", query={"qty": {"$gte": 4}})
    items.distinct("qty")
    if mode != "legacy":
        list(items.aggregate([{"$match": {"qty": {"$gte": 4}}}], batchSize=3))
    expect_error(lambda: db.command("nosuchcommand"), OperationFailure)
    if mode == "msg":
        expect_error(lambda: list(db.fail.find({})), OperationFailure)
        expect_error(lambda: items.with_options(write_concern=pymongo.WriteConcern(w=2)).insert_one({"_id": 50}),
                     WriteConcernError)
    if mode == "legacy":
        expect_error(lambda: list(db.bad.find({})), OperationFailure)
    unack = items.with_options(write_concern=pymongo.WriteConcern(w=0))
    unack.insert_one({"_id": 60, "name": "fire and forget"})
    unack.update_one({"_id": 60}, {"$set": {"qty": 1}})
    unack.delete_one({"_id": 60})
    # A cursor left open and killed.
    cur = items.find({}, batch_size=1)
    next(cur)
    cur.close()
    items.find_one({"_id": 3})
    client.close()
    n = listener.n
    print("started=%d succeeded=%d failed=%d" % (n["started"], n["succeeded"], n["failed"]))


if __name__ == "__main__":
    main()
