#!/usr/bin/python3
"""Clients for tests/pcaps/make-pgsql.sh (run with Debian's /usr/bin/python3).

  pgsql-client.py psycopg2 PORT   psycopg2 (libpq, simple query protocol):
      application_name, DDL, INSERTs with client-side parameters, a SELECT
      whose values need CSV quoting (comma, quote, newline, leading space,
      NULL), a duplicate key (23505), a 15-row result, RAISE NOTICE, LISTEN/NOTIFY, COPY in and out,
      and a cancelled pg_sleep (CancelRequest on its own connection, 57014)
  pgsql-client.py raw PORT        a hand-written v3 client as user "raw"
      (trust): an SSLRequest answered N, then the extended
      protocol libpq does not show: a named statement described, a named
      portal bound with binary parameters (int4, int8, text, bool, float8,
      NULL), Execute with a row limit (PortalSuspended) then the rest,
      Close, Flush, three pipelined Executes before one Sync of which the
      second fails (the third is skipped by the server), a syntax error in
      Parse, a comment-only Query
      (EmptyQueryResponse), and Terminate
"""
import select
import socket
import struct
import sys
import threading
import time


def psycopg2_client(port):
    import psycopg2

    dsn = "host=127.0.0.1 port=%d user=xdp password=xdp dbname=xdp application_name=xdpbeat-test" % port
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("CREATE TABLE items (id int PRIMARY KEY, name text, note text)")
    rows = [(1, "plain", None), (2, "a,b", 'say "hi"'), (3, "two\nlines", " lead")]
    for r in rows:
        cur.execute("INSERT INTO items VALUES (%s, %s, %s)", r)
    cur.execute("SELECT id, name, note FROM items ORDER BY id")
    cur.fetchall()
    conn.commit()
    try:
        cur.execute("INSERT INTO items VALUES (%s, %s, %s)", (1, "dup", None))
    except psycopg2.Error:
        conn.rollback()
    cur.execute("SELECT g AS n, repeat('x', 20) AS pad FROM generate_series(1, 15) AS g")
    cur.fetchall()
    conn.commit()
    conn.autocommit = True
    cur.execute("DO $$ BEGIN RAISE NOTICE 'hello; notice'; END $$")
    cur.execute("LISTEN xdp_channel")
    cur.execute("NOTIFY xdp_channel, 'payload one'")
    select.select([conn], [], [], 2)
    conn.poll()
    with open("/dev/null", "w") as sink:
        cur.copy_expert("COPY items TO STDOUT", sink)
    import io
    cur.copy_expert("COPY items (id, name) FROM STDIN", io.StringIO("10\tten\n11\televen\n"))

    def cancel_soon():
        time.sleep(0.3)
        conn.cancel()

    t = threading.Thread(target=cancel_soon)
    t.start()
    try:
        cur.execute("SELECT pg_sleep(5)")
    except psycopg2.Error:
        pass
    t.join()
    cur.execute("SELECT count(*) FROM items")
    conn.close()


# ---- raw v3 protocol ----


def msg(typ, payload=b""):
    return typ + struct.pack(">I", len(payload) + 4) + payload


def cstr(s):
    return s.encode() + b"\0"


class Raw:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def byte(self):
        while not self.buf:
            self.buf += self.s.recv(65536)
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def recv_msg(self):
        while len(self.buf) < 5:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        typ, n = self.buf[:1], struct.unpack(">I", self.buf[1:5])[0]
        while len(self.buf) < 1 + n:
            self.buf += self.s.recv(65536)
        body, self.buf = self.buf[5 : 1 + n], self.buf[1 + n :]
        return typ, body

    def until_ready(self):
        while True:
            typ, _ = self.recv_msg()
            if typ == b"Z":
                return


def parse(name, query, oids=()):
    return msg(b"P", cstr(name) + cstr(query) + struct.pack(">H", len(oids)) + b"".join(struct.pack(">I", o) for o in oids))


def bind(portal, stmt, values, fmt=0, result_fmt=0):
    p = cstr(portal) + cstr(stmt) + struct.pack(">HH", 1, fmt) + struct.pack(">H", len(values))
    for v in values:
        p += struct.pack(">i", -1) if v is None else struct.pack(">I", len(v)) + v
    return msg(b"B", p + struct.pack(">HH", 1, result_fmt))


def execute(portal, maxrows=0):
    return msg(b"E", cstr(portal) + struct.pack(">I", maxrows))


SYNC = msg(b"S")


def raw_client(port):
    c = Raw(port)
    c.send(struct.pack(">II", 8, 80877103))  # SSLRequest
    assert c.byte() == b"N"
    params = cstr("user") + cstr("raw") + cstr("database") + cstr("xdp") + cstr("application_name") + cstr("raw-v3") + b"\0"
    c.send(struct.pack(">II", len(params) + 8, 196608) + params)
    c.until_ready()

    # a named statement, described, then a named portal with binary parameters
    c.send(parse("s1", "SELECT $1::int4 + $2::int8 AS sum, $3::text AS t, $4::bool AS b, $5::float8 AS f, $6::int4 AS n",
                 (23, 20, 25, 16, 701, 23)) + msg(b"D", b"S" + cstr("s1")) + SYNC)
    c.until_ready()
    vals = [struct.pack(">i", 40), struct.pack(">q", 2), b"caf\xc3\xa9", b"\x01", struct.pack(">d", 2.5), None]
    c.send(bind("p1", "s1", vals, fmt=1) + msg(b"D", b"P" + cstr("p1")) + execute("p1") +
           msg(b"C", b"P" + cstr("p1")) + SYNC)
    c.until_ready()

    # a row limit: PortalSuspended, then the rest of the rows
    c.send(parse("", "SELECT g FROM generate_series(1, 5) AS g") + bind("", "", []) + execute("", 2) + msg(b"H"))
    while c.recv_msg()[0] != b"s":
        pass
    c.send(execute("", 0) + SYNC)
    c.until_ready()

    # three Executes pipelined before one Sync; the second fails, the third is skipped
    batch = b""
    for q in ("SELECT 1 AS one", "SELECT 1/0 AS boom", "SELECT 3 AS three"):
        batch += parse("", q) + bind("", "", []) + msg(b"D", b"P\0") + execute("")
    c.send(batch + SYNC)
    c.until_ready()

    # a syntax error in Parse: the Bind and Execute after it are skipped
    c.send(parse("", "SELEC oops") + bind("", "", []) + execute("") + SYNC)
    c.until_ready()

    # the named statement again with text parameters, then closed
    c.send(bind("", "s1", [b"1", b"2", b"x", b"t", b"0.5", b"7"]) + execute("") +
           msg(b"C", b"S" + cstr("s1")) + SYNC)
    c.until_ready()
    # a comment-only simple query: EmptyQueryResponse
    c.send(msg(b"Q", cstr("-- only a comment")))
    c.until_ready()
    c.send(msg(b"X"))
    c.s.close()


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    {"psycopg2": psycopg2_client, "raw": raw_client}[mode](port)
