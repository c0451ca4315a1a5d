#!/usr/bin/python3
"""Elasticsearch-compatible test server for xdpbeat (Python standard library only).

Implements the subset of the Elasticsearch REST API that xdpbeat and the
official Python client use: cluster info, composable index templates, _bulk,
_doc, _count, _search (term/terms/match/range/exists/bool, size/from/sort),
data streams, plus a test-only admin API to inject faults and read counters.
Documents are checked against the matching template's mapping (properties,
and dynamic templates by path_match): a value of the wrong type is a mapping
error, as Elasticsearch would give.

Data streams behave as in Elasticsearch 8: a write to a name that matches a
composable template with "data_stream" creates the stream with the backing
index .ds-<name>-<yyyy.MM.dd>-000001 (creation date, UTC); only create ops
are accepted there (an index op fails per item, 400 illegal_argument_exception),
every document needs @timestamp, hits and bulk items name the backing index;
_search/_count on the stream (or a pattern matching it) read its backing
indices, which are hidden (a wildcard matches them only if it starts with
'.'); GET/PUT/DELETE /_data_stream/<names> manage the streams.

Usage: es_server.py [--port N] [--bind ADDR] [--user U:P] [--api-key ID:KEY]
                    [--port-file F] [--refuse-for SECONDS] [--tls CERT KEY] [--fast]
Prints "es_server listening on ADDR:PORT" once the socket accepts.

Admin API (never needs credentials):
  POST /_fault  {"mode": M, "count": K, "seconds": S, ...}
     (shorthands: {"fail_items": N, ...} and {"slow": SECONDS, ...})
     M = none | refuse | hang | 429 | 503 | 500 | 413 | 401 | 403 | fail_items |
         close_mid_response | malformed | slow
     count   = number of matching requests affected (default 1 unless seconds)
     seconds = fault lasts this long (refuse: listener closed this long)
     scope   = "bulk" (default) or "all" (every non-admin request)
     path    = only requests whose path contains this (e.g. "_index_template")
     items   = fail_items: how many items of each bulk fail (default 1)
     status  = fail_items: item status (default 429; 400 = mapping error)
     delay   = slow: seconds before answering (default 2)
     after   = let this many bulk requests through first (refuse: then
               close the listener for `seconds`)
     store   = malformed/close_mid_response: store the docs first (default true)
  GET  /_test/stats   counters (bulk requests, docs, duplicates, templates...)
  POST /_test/reset   forget all documents, templates, counters and faults
"""

import argparse
import base64
import fnmatch
import functools
import gzip
import hashlib
import ipaddress
import json
import re
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 512 * 1024 * 1024
VERSION = "8.11.0"


class Fault:
    def __init__(self, spec):
        mode = spec.get("mode")
        if mode is None:  # shorthand: {"fail_items": N} or {"slow": SECONDS}
            mode = "fail_items" if "fail_items" in spec else "slow" if "slow" in spec else "none"
        self.mode = str(mode)
        self.scope = spec.get("scope", "bulk")
        self.items = int(spec.get("items", spec.get("fail_items", 1)) or 1)
        if self.mode == "fail_items" and isinstance(spec.get("fail_items"), int):
            self.items = spec["fail_items"]
        self.status = int(spec.get("status", 429))
        self.delay = float(spec.get("delay", spec.get("slow", 2)) if self.mode == "slow" else 0)
        self.store = bool(spec.get("store", True))
        seconds = spec.get("seconds")
        self.until = time.time() + float(seconds) if seconds is not None else None
        self.path = spec.get("path")  # only requests whose path contains this
        self.after = int(spec.get("after", 0))
        self.started = False
        self.seconds = float(seconds) if seconds is not None else None
        count = spec.get("count")
        if count is None and seconds is None:
            count = 1
        self.count = int(count) if count is not None else None

    def active(self):
        if self.mode == "none":
            return False
        if self.until is not None and time.time() >= self.until:
            return False
        if self.count is not None and self.count <= 0:
            return False
        return True


class Store:
    """All server state, guarded by one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.indices = {}  # name -> {id: source dict}
        self.hashes = {}  # name -> {content sha1: count}
        self.templates = {}  # name -> body
        self.data_streams = {}  # name -> {"indices": [backing, oldest first], "generation": n, "uuids": {}}
        self.backing = {}  # backing index -> its data stream
        self.props_cache = {}  # index -> flattened mapping of its template
        self.next_id = 0
        self.fault = None
        self.log = []  # ordered ("template_put", name) / ("bulk", n) events
        self.c = {
            "requests": 0,
            "bulk_requests": 0,
            "bulk_items": 0,
            "bulk_bytes": 0,  # request body bytes as received (compressed or not)
            "bulk_bytes_raw": 0,  # after gunzip
            "bulk_header_bytes": 0,
            "bulk_gzip": 0,
            "docs_stored": 0,  # computed when read
            "docs_created": 0,
            "docs_updated": 0,
            "duplicates_id": 0,  # create on an existing _id (409) or index overwrite
            "duplicates_content": 0,  # same source stored twice in one index
            "items_failed": 0,
            "mapping_errors": 0,
            "faults_applied": 0,
            "auth_failures": 0,
            "template_puts": 0,
            "template_gets": 0,
            "proxied_requests": 0,  # absolute-form request lines (sent to us as a proxy)
        }
        self.unmapped = set()
        self.last_bulk_headers = {}
        self.pipelines = {}  # ingest pipeline named in bulk actions -> items
        self.first_bulk_before_template = False

    def take_fault(self, is_bulk, path=""):
        f = self.fault
        if f is None or not f.active():
            return None
        if f.path is not None:
            if f.path not in path:
                return None
        elif f.mode != "refuse" and f.scope != "all" and not is_bulk:
            return None
        if f.after > 0:
            if is_bulk:
                f.after -= 1
            return None
        if f.mode == "refuse" and not f.started:
            # a delayed refuse: the listener closes from now on
            f.started = True
            secs = f.seconds if f.seconds is not None else 3
            f.until = time.time() + secs
            SERVER.refuse_for(secs)
        if f.count is not None:
            f.count -= 1
        self.c["faults_applied"] += 1
        return f


STORE = Store()
SERVER = None
FAST = False  # --fast: no mapping checks, no content hashes (benchmarks)
AUTH = {"basic": None, "apikey": None}
TLS = {"ctx": None}


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---------------------------------------------------------------- documents


def get_path(src, path):
    """Values at dotted path in src (objects and dotted keys both work); list."""
    out = []

    def walk(node, parts):
        if not parts:
            if isinstance(node, list):
                out.extend(node)
            else:
                out.append(node)
            return
        if isinstance(node, list):
            for x in node:
                walk(x, parts)
            return
        if not isinstance(node, dict):
            return
        for i in range(len(parts), 0, -1):
            key = ".".join(parts[:i])
            if key in node:
                walk(node[key], parts[i:])

    walk(src, path.split("."))
    return out


def flatten(src, prefix=""):
    """Leaf paths of a document: {dotted.path: value}."""
    out = {}
    if isinstance(src, dict):
        for k, v in src.items():
            p = prefix + "." + k if prefix else k
            if isinstance(v, dict):
                out.update(flatten(v, p))
            else:
                out[p] = v
    return out


DYNAMIC = "\0dynamic"  # key of mapping_props' list of (path_match, mapping)


def mapping_props(tpl_body):
    tpl = tpl_body.get("template", {}) if isinstance(tpl_body, dict) else {}
    props = tpl.get("mappings", {}).get("properties", {})
    flat = {}

    def walk(p, prefix):
        for k, v in p.items():
            name = prefix + "." + k if prefix else k
            if not isinstance(v, dict):
                continue
            if "properties" in v:
                walk(v["properties"], name)
                flat[name] = {"type": v.get("type", "object")}
            else:
                flat[name] = v

    walk(props, "")
    # dynamic templates by path_match map fields the properties do not name
    dyn = [(d["path_match"], d.get("mapping", {}))
           for e in tpl.get("mappings", {}).get("dynamic_templates", []) if isinstance(e, dict)
           for d in e.values() if isinstance(d, dict) and "path_match" in d]
    if dyn:
        flat[DYNAMIC] = dyn
    return flat


def matching_template(index):
    """(name, body) of the highest-priority composable template matching index, or (None, None)."""
    best = None
    for name, body in STORE.templates.items():
        for pat in body.get("index_patterns", []):
            if fnmatch.fnmatchcase(index, pat):
                prio = body.get("priority", 0)
                if best is None or prio > best[0]:
                    best = (prio, name, body)
                break
    return (best[1], best[2]) if best else (None, None)


def template_for(index):
    """The template whose mappings apply to index (a backing index: its data stream's)."""
    return matching_template(STORE.backing.get(index, index))[1]


# ---------------------------------------------------------------- data streams

DS_CREATE_ONLY = "only write ops with an op_type of create are allowed in data streams"
DS_NOT_CONCRETE = "The provided expression [%s] matches a data stream, specify the corresponding concrete indices instead."


def is_ds_template(body):
    return isinstance(body, dict) and isinstance(body.get("data_stream"), dict)


def create_data_stream(name):
    """A new data stream with its first backing index (lock held)."""
    backing = ".ds-%s-%s-%06d" % (name, datetime.now(timezone.utc).strftime("%Y.%m.%d"), 1)
    uid = base64.urlsafe_b64encode(hashlib.sha1(("%s/%f" % (backing, time.time())).encode()).digest()[:16])
    ds = {"indices": [backing], "generation": 1, "uuids": {backing: uid.decode().rstrip("=")}}
    STORE.data_streams[name] = ds
    STORE.backing[backing] = name
    STORE.indices.setdefault(backing, {})
    STORE.hashes.setdefault(backing, {})
    STORE.log.append(["data_stream_create", name])
    return ds


def delete_data_stream(name):
    for b in STORE.data_streams.pop(name)["indices"]:
        STORE.backing.pop(b, None)
        STORE.indices.pop(b, None)
        STORE.hashes.pop(b, None)
        STORE.props_cache.pop(b, None)


def ds_info(name):
    ds = STORE.data_streams[name]
    tname, tpl = matching_template(name)
    info = {
        "name": name,
        "timestamp_field": {"name": "@timestamp"},
        "indices": [{"index_name": b, "index_uuid": ds["uuids"][b], "prefer_ilm": True, "managed_by": "Unmanaged"}
                    for b in ds["indices"]],
        "generation": ds["generation"],
        "status": "GREEN",
        "template": tname,
        "next_generation_managed_by": "Unmanaged",
        "prefer_ilm": True,
        "hidden": False,
        "system": False,
        "allow_custom_routing": False,
        "replicated": False,
    }
    if isinstance(tpl, dict) and isinstance(tpl.get("_meta"), dict):
        info["_meta"] = tpl["_meta"]
    return info


def resolve_data_streams(expr):
    """Data stream names for a comma list with wildcards: (names, None) or (None, missing name)."""
    names = []
    for part in (expr or "*").split(","):
        part = part.strip()
        if part in ("_all", "*", "") or "*" in part or "?" in part:
            pat = "*" if part in ("_all", "") else part
            names.extend(n for n in sorted(STORE.data_streams) if fnmatch.fnmatchcase(n, pat))
        elif part in STORE.data_streams:
            names.append(part)
        else:
            return None, part
    return list(dict.fromkeys(names)), None


def write_target(name, op):
    """The concrete index a write of op to name goes to: (index, None), or (None, (status, error)).

    A name matching a data stream template becomes a data stream on the first
    write, whatever the op (Elasticsearch auto-creates before it checks the op)."""
    ds = STORE.data_streams.get(name)
    if ds is None and name not in STORE.indices and is_ds_template(matching_template(name)[1]):
        ds = create_data_stream(name)
    if ds is not None:
        if op != "create":
            return None, (400, {"type": "illegal_argument_exception", "reason": DS_CREATE_ONLY})
        return ds["indices"][-1], None
    owner = STORE.backing.get(name)
    if owner is not None:
        if op == "create":
            reason = ("index request with op_type=create targeting backing indices is disallowed, "
                      "target corresponding data stream [%s] instead" % owner)
        else:
            reason = ("index request with op_type=index and no if_primary_term and if_seq_no set targeting "
                      "backing indices is disallowed, target corresponding data stream [%s] instead" % owner)
        return None, (400, {"type": "illegal_argument_exception", "reason": reason})
    return name, None


def ds_timestamp_error(src):
    """The error Elasticsearch gives a data stream document without a usable @timestamp, or None."""
    ts = [v for v in get_path(src, "@timestamp") if v is not None]
    if len(ts) == 1:
        bad = check_value("date", ts[0])
        if not bad:
            return None
        return {"type": "mapper_parsing_exception", "reason": "failed to parse field [@timestamp]: %s" % bad}
    reason = "data stream timestamp field [@timestamp] is %s" % ("missing" if not ts else "multi-valued")
    return {"type": "mapper_parsing_exception", "reason": "failed to parse",
            "caused_by": {"type": "illegal_argument_exception", "reason": reason}}


DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def check_value(ftype, value):
    """None if value fits ftype, else an error reason."""
    if value is None:
        return None
    if isinstance(value, (str, int, float)):
        return check_scalar(ftype, value, type(value))
    if isinstance(value, list):
        for v in value:
            r = check_value(ftype, v)
            if r:
                return r
        return None
    return check_value_slow(ftype, value)


def check_value_slow(ftype, value):
    if ftype in ("object", "nested", "flattened"):
        return None if isinstance(value, dict) or ftype == "flattened" else "expected object"
    if isinstance(value, dict):
        return "tried to parse field as %s but found an object" % ftype
    if ftype in ("long", "integer", "short", "byte", "unsigned_long"):
        if isinstance(value, bool):
            return "bool for numeric field"
        if isinstance(value, int):
            return None
        if isinstance(value, float) and value == int(value):
            return None
        if isinstance(value, str):
            try:
                int(value)
                return None
            except ValueError:
                pass
        return "failed to parse field of type [%s] from [%s]" % (ftype, value)
    if ftype in ("double", "float", "half_float", "scaled_float"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        try:
            float(value)
            return None
        except (TypeError, ValueError):
            return "failed to parse field of type [%s] from [%s]" % (ftype, value)
    if ftype == "ip":
        try:
            ipaddress.ip_address(str(value))
            return None
        except ValueError:
            return "'%s' is not an IP string literal." % value
    if ftype in ("date", "date_nanos"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and DATE_RE.match(value):
            return None
        return "failed to parse date field [%s]" % value
    if ftype == "boolean":
        if isinstance(value, bool) or value in ("true", "false", ""):
            return None
        return "Failed to parse value [%s] as only [true] or [false] are allowed." % value
    return None  # keyword, text, wildcard, match_only_text...


@functools.lru_cache(maxsize=65536)
def check_scalar(ftype, value, _vtype):
    return check_value_slow(ftype, value)


def validate(index, src):
    props = STORE.props_cache.get(index)
    if props is None:
        tpl = template_for(index)
        props = mapping_props(tpl) if tpl else {}
        STORE.props_cache[index] = props
    if not props:
        return None
    for path, value in flatten(src).items():
        spec = props.get(path)
        if spec is None:
            spec = next((m for pat, m in props.get(DYNAMIC, ()) if fnmatch.fnmatchcase(path, pat)), None)
        if spec is None:
            # a parent typed as a leaf (e.g. keyword) cannot hold objects
            parts = path.split(".")
            for i in range(1, len(parts)):
                parent = props.get(".".join(parts[:i]))
                if parent and parent.get("type", "object") not in ("object", "nested", "flattened"):
                    return "mapper_parsing_exception", "object mapping for [%s] tried to parse field [%s] as object, but found a concrete value" % (".".join(parts[:i]), path)
                if parent and parent.get("type") == "flattened":
                    break
            else:
                STORE.unmapped.add(path)
            continue
        reason = check_value(spec.get("type", "object"), value)
        if reason:
            return "mapper_parsing_exception", "failed to parse field [%s]: %s" % (path, reason)
    return None


def source_filter(src, include):
    """Only the leaf fields matching the include patterns, nested again."""
    out = {}
    for path, value in flatten(src).items():
        if not any(fnmatch.fnmatchcase(path, p) or path.startswith(p + ".") for p in include):
            continue
        node = out
        parts = path.split(".")
        for k in parts[:-1]:
            node = node.setdefault(k, {})
        node[parts[-1]] = value
    return out


def content_hash(src):
    return hashlib.sha1(json.dumps(src, sort_keys=True).encode()).hexdigest()


def new_id():
    STORE.next_id += 1
    return "t%012d" % STORE.next_id


def store_doc(index, doc_id, src, op):
    """Store one document in a concrete index; returns (status, result, error, id) with STORE.lock held."""
    err = ds_timestamp_error(src) if index in STORE.backing else None
    if err is None and not FAST:
        err = validate(index, src)
        err = err and {"type": err[0], "reason": err[1]}
    if err:
        STORE.c["mapping_errors"] += 1
        return 400, None, err, doc_id
    docs = STORE.indices.setdefault(index, {})
    hashes = STORE.hashes.setdefault(index, {})
    if doc_id is None:
        doc_id = new_id()
    exists = doc_id in docs
    if exists and op == "create":
        STORE.c["duplicates_id"] += 1
        return 409, None, {
            "type": "version_conflict_engine_exception",
            "reason": "[%s]: version conflict, document already exists (current version [1])" % doc_id,
        }, doc_id
    h = "" if FAST else content_hash(src)
    if exists:
        STORE.c["duplicates_id"] += 1
        STORE.c["docs_updated"] += 1
        old = content_hash(docs[doc_id])
        hashes[old] -= 1
    else:
        STORE.c["docs_created"] += 1
        if hashes.get(h, 0) > 0:
            STORE.c["duplicates_content"] += 1
    hashes[h] = hashes.get(h, 0) + 1
    docs[doc_id] = src
    return (200 if exists else 201), ("updated" if exists else "created"), None, doc_id


def resolve_indices(expr, data_streams=True):
    """Concrete indices for a comma list of names and wildcards: (names, None) or (None, missing name).

    A data stream stands for its backing indices; those are hidden: a wildcard
    matches them directly only if it starts with '.'."""
    names = []
    for part in (expr or "_all").split(","):
        part = part.strip()
        if part in ("_all", "*", "") or "*" in part or "?" in part:
            pat = "*" if part in ("_all", "") else part
            names.extend(n for n in STORE.indices
                         if fnmatch.fnmatchcase(n, pat) and (n not in STORE.backing or pat.startswith(".")))
            if data_streams:
                for ds in resolve_data_streams(pat)[0]:
                    names.extend(STORE.data_streams[ds]["indices"])
        elif data_streams and part in STORE.data_streams:
            names.extend(STORE.data_streams[part]["indices"])
        elif part in STORE.indices:
            names.append(part)
        else:
            return None, part
    seen = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return seen, None


# ---------------------------------------------------------------- queries


def to_num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            try:
                d = datetime.fromisoformat(v.replace("Z", "+00:00"))
                return d.timestamp() * 1000.0
            except ValueError:
                return None
    return None


def cmp_key(v):
    n = to_num(v)
    return (0, n, "") if n is not None else (1, 0, str(v))


def eq(a, b):
    if a == b:
        return True
    na, nb = to_num(a), to_num(b)
    if na is not None and nb is not None and not isinstance(a, str) and not isinstance(b, str):
        return na == nb
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    return str(a) == str(b)


class QueryError(Exception):
    pass


def single(q, name):
    if not isinstance(q, dict) or len(q) != 1:
        raise QueryError("[%s] query malformed" % name)
    field, spec = next(iter(q.items()))
    return field, spec


def match_query(q, src):
    if not q:
        return True
    if not isinstance(q, dict) or len(q) != 1:
        raise QueryError("query malformed, expected a single query type")
    kind, body = next(iter(q.items()))
    if kind == "match_all":
        return True
    if kind == "match_none":
        return False
    if kind == "term":
        field, spec = single(body, kind)
        want = spec.get("value") if isinstance(spec, dict) else spec
        return any(eq(v, want) for v in get_path(src, field))
    if kind == "terms":
        body = {k: v for k, v in body.items() if k != "boost"}
        field, spec = single(body, kind)
        return any(eq(v, w) for v in get_path(src, field) for w in spec)
    if kind in ("match", "match_phrase"):
        field, spec = single(body, kind)
        want = spec.get("query") if isinstance(spec, dict) else spec
        for v in get_path(src, field):
            if eq(v, want):
                return True
            if isinstance(v, str) and isinstance(want, str):
                toks = set(re.findall(r"\w+", v.lower()))
                wt = re.findall(r"\w+", want.lower())
                if kind == "match" and any(t in toks for t in wt):
                    return True
                if kind == "match_phrase" and want.lower() in v.lower():
                    return True
        return False
    if kind == "prefix":
        field, spec = single(body, kind)
        want = spec.get("value") if isinstance(spec, dict) else spec
        return any(isinstance(v, str) and v.startswith(want) for v in get_path(src, field))
    if kind == "wildcard":
        field, spec = single(body, kind)
        want = spec.get("value") if isinstance(spec, dict) else spec
        return any(isinstance(v, str) and fnmatch.fnmatchcase(v, want) for v in get_path(src, field))
    if kind == "exists":
        return any(v is not None for v in get_path(src, body.get("field", "")))
    if kind == "ids":
        return False  # handled by caller via _id; not needed by tests
    if kind == "range":
        field, spec = single(body, kind)
        for v in get_path(src, field):
            x = to_num(v)
            if x is None:
                continue
            ok = True
            for op, lim in spec.items():
                if op in ("format", "time_zone", "boost"):
                    continue
                y = to_num(lim)
                if y is None:
                    raise QueryError("range bound [%s] is not a number or date" % lim)
                ok = ok and {"gt": x > y, "gte": x >= y, "lt": x < y, "lte": x <= y}.get(op, False)
            if ok:
                return True
        return False
    if kind == "bool":
        for key in ("must", "filter"):
            cl = body.get(key, [])
            cl = cl if isinstance(cl, list) else [cl]
            if not all(match_query(c, src) for c in cl):
                return False
        nots = body.get("must_not", [])
        nots = nots if isinstance(nots, list) else [nots]
        if any(match_query(c, src) for c in nots):
            return False
        should = body.get("should", [])
        should = should if isinstance(should, list) else [should]
        if should:
            need = body.get("minimum_should_match")
            if need is None:
                need = 0 if (body.get("must") or body.get("filter")) else 1
            if sum(1 for c in should if match_query(c, src)) < int(need):
                return False
        return True
    raise QueryError("unknown query [%s]" % kind)


def run_query(index_expr, body):
    names, missing = resolve_indices(index_expr)
    if names is None:
        return None, missing
    q = body.get("query") or {}
    hits = []
    for n in names:
        for doc_id, src in STORE.indices[n].items():
            if match_query(q, src):
                hits.append((n, doc_id, src))
    return hits, None


def sort_hits(hits, sort):
    if not sort:
        return hits
    specs = sort if isinstance(sort, list) else [sort]
    for spec in reversed(specs):
        if isinstance(spec, str):
            field, order = spec, "asc"
        else:
            field, o = next(iter(spec.items()))
            order = o.get("order", "asc") if isinstance(o, dict) else o
        def key(h, field=field):
            vals = get_path(h[2], field)
            return (0, cmp_key(vals[0])) if vals else (1, (0, 0, ""))
        missing = [h for h in hits if not get_path(h[2], field)]
        present = [h for h in hits if get_path(h[2], field)]
        present.sort(key=key, reverse=(order == "desc"))
        hits = present + missing
    return hits


# ---------------------------------------------------------------- HTTP


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "es_server/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # ---- plumbing

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            data = bytearray()
            while True:
                line = self.rfile.readline(1024)
                size = int(line.strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    break
                if len(data) + size > MAX_BODY:
                    raise ValueError("body too large")
                data += self.rfile.read(size)
                self.rfile.readline(8)
            raw = bytes(data)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                raise ValueError("body too large")
            raw = self.rfile.read(n) if n else b""
        enc = (self.headers.get("Content-Encoding") or "").lower()
        if enc == "gzip":
            return raw, gzip.decompress(raw), True
        if enc == "deflate":
            return raw, zlib.decompress(raw), True
        return raw, raw, False

    def send(self, status, obj=None, raw=None, ctype="application/json", head=False):
        body = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def error(self, status, etype, reason, head=False):
        self.send(status, {"error": {"root_cause": [{"type": etype, "reason": reason}],
                                     "type": etype, "reason": reason}, "status": status}, head=head)

    def reset_connection(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def authorized(self):
        if AUTH["basic"] is None and AUTH["apikey"] is None:
            return True
        h = self.headers.get("Authorization", "")
        if AUTH["basic"] and h == "Basic " + base64.b64encode(AUTH["basic"].encode()).decode():
            return True
        if AUTH["apikey"] and h == "ApiKey " + base64.b64encode(AUTH["apikey"].encode()).decode():
            return True
        return False

    # ---- dispatch

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        if self.path.startswith(("http://", "https://")):  # absolute form: we are the client's proxy
            with STORE.lock:
                STORE.c["proxied_requests"] += 1
            self.path = "/" + self.path.split("/", 3)[3] if self.path.count("/") >= 3 else "/"
        path, _, qs = self.path.partition("?")
        params = dict(p.partition("=")[::2] for p in qs.split("&") if p)
        parts = [p for p in path.split("/") if p]
        try:
            raw, body, gz = self.read_body()
        except Exception as e:  # noqa: BLE001 - any bad framing
            self.error(400, "parse_exception", "bad request body: %s" % e)
            self.close_connection = True
            return
        if parts[:1] in (["_fault"], ["_test"]):
            return self.admin(method, parts, body)
        is_bulk = bool(parts) and parts[-1] == "_bulk"
        with STORE.lock:
            STORE.c["requests"] += 1
            fault = STORE.take_fault(is_bulk, path)
        if fault and fault.mode == "refuse":
            return self.reset_connection()
        if not self.authorized():
            with STORE.lock:
                STORE.c["auth_failures"] += 1
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="security" charset="UTF-8"')
            self.send_header("WWW-Authenticate", "ApiKey")
            b = json.dumps({"error": {"type": "security_exception",
                                      "reason": "unable to authenticate user for REST request [%s]" % path},
                            "status": 401}).encode()
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(b)
            return
        if fault and self.pre_fault(fault):
            return
        try:
            self.route(method, parts, params, body, raw, gz, fault)
        except QueryError as e:
            self.error(400, "parsing_exception", str(e))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            self.error(400, "parse_exception", "failed to parse request: %s" % e)

    def pre_fault(self, f):
        """Faults that replace the whole answer. True if the request is done."""
        if f.mode == "hang":
            end = time.time() + (f.until - time.time() if f.until else 3600)
            while time.time() < end:
                r, _, _ = select.select([self.connection], [], [], 0.2)
                if r and not self.connection.recv(1, socket.MSG_PEEK):
                    break
            self.close_connection = True
            return True
        if f.mode in ("429", "503", "500", "413"):
            st = int(f.mode)
            etype = {429: "es_rejected_execution_exception", 413: "request_entity_too_large"}.get(st, "unavailable_shards_exception")
            self.error(st, etype, "injected fault %s" % f.mode)
            return True
        if f.mode == "401":
            self.error(401, "security_exception", "injected authentication failure")
            return True
        if f.mode == "403":
            self.error(403, "security_exception", "action [%s] is unauthorized for user [xdpbeat]" % self.path)
            return True
        if f.mode == "slow":
            time.sleep(f.delay)
        return False

    def admin(self, method, parts, body):
        if parts == ["_fault"] and method in ("POST", "PUT"):
            spec = json.loads(body or b"{}")
            f = Fault(spec)
            with STORE.lock:
                STORE.fault = f
            if f.mode == "refuse" and f.after == 0:
                f.started = True
                SERVER.refuse_for(float(spec.get("seconds", 3)))
            return self.send(200, {"acknowledged": True, "mode": f.mode})
        if parts == ["_fault"] and method == "DELETE":
            with STORE.lock:
                STORE.fault = None
            return self.send(200, {"acknowledged": True})
        if parts == ["_test", "stats"]:
            with STORE.lock:
                out = dict(STORE.c)
                out["indices"] = {n: len(d) for n, d in STORE.indices.items()}
                out["docs_stored"] = sum(out["indices"].values())
                out["templates"] = sorted(STORE.templates)
                out["data_streams"] = {n: list(d["indices"]) for n, d in STORE.data_streams.items()}
                out["unmapped_fields"] = sorted(STORE.unmapped)
                out["last_bulk_headers"] = STORE.last_bulk_headers
                out["pipelines"] = STORE.pipelines
                out["log"] = STORE.log[:50]
                out["first_bulk_before_template"] = STORE.first_bulk_before_template
                out["fault_active"] = bool(STORE.fault and STORE.fault.active())
            return self.send(200, out)
        if parts == ["_test", "reset"]:
            with STORE.lock:
                STORE.reset()
            return self.send(200, {"acknowledged": True})
        if parts == ["_test", "docs"] and len(parts) == 2:
            with STORE.lock:
                out = {n: list(d.values()) for n, d in STORE.indices.items()}
            return self.send(200, out)
        return self.error(404, "not_found", "no such admin endpoint")

    def route(self, method, parts, params, body, raw, gz, fault):
        if not parts:
            if method in ("GET", "HEAD"):
                return self.send(200, {
                    "name": "es-test", "cluster_name": "xdpbeat-test", "cluster_uuid": "xdpbeat-test-uuid",
                    "version": {"number": VERSION, "build_flavor": "default", "build_type": "tar",
                                "lucene_version": "9.8.0", "minimum_wire_compatibility_version": "7.17.0",
                                "minimum_index_compatibility_version": "7.0.0"},
                    "tagline": "You Know, for Search"}, head=(method == "HEAD"))
            return self.error(405, "method_not_allowed", "method not allowed")
        if parts[0] == "_index_template" and len(parts) == 2:
            return self.template(method, parts[1], body)
        if parts[0] == "_data_stream" and len(parts) <= 2:
            return self.data_stream(method, parts[1] if len(parts) == 2 else None)
        if parts[-1] == "_bulk" and len(parts) <= 2 and method in ("POST", "PUT"):
            return self.bulk(parts[0] if len(parts) == 2 else None, body, raw, gz, fault)
        if parts[0] in ("_search", "_count") or (len(parts) == 2 and parts[1] in ("_search", "_count")):
            idx = parts[0] if len(parts) == 2 else None
            return self.search(idx, parts[-1], params, body)
        if len(parts) == 2 and parts[1] == "_refresh" or parts == ["_refresh"]:
            return self.send(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})
        if len(parts) >= 2 and parts[1] in ("_doc", "_create"):
            return self.doc(method, parts, params, body)
        if len(parts) == 1 and not parts[0].startswith("_"):
            return self.index_admin(method, parts[0])
        if parts == ["_cluster", "health"]:
            return self.send(200, {"cluster_name": "xdpbeat-test", "status": "green", "number_of_nodes": 1})
        return self.error(400, "illegal_argument_exception", "unsupported path /%s" % "/".join(parts))

    def template(self, method, name, body):
        with STORE.lock:
            exists = name in STORE.templates
            if method == "HEAD":
                STORE.c["template_gets"] += 1
                return self.send(200 if exists else 404, head=True)
            if method == "GET":
                STORE.c["template_gets"] += 1
                if not exists:
                    return self.error(404, "resource_not_found_exception", "index template matching [%s] not found" % name)
                return self.send(200, {"index_templates": [{"name": name, "index_template": STORE.templates[name]}]})
            if method in ("PUT", "POST"):
                tpl = json.loads(body)
                if not isinstance(tpl, dict) or not isinstance(tpl.get("index_patterns"), list):
                    return self.error(400, "action_request_validation_exception",
                                      "Validation Failed: 1: index patterns are missing;")
                mapping_props(tpl)  # must be well formed
                if "data_stream" in tpl and not is_ds_template(tpl):
                    return self.error(400, "x_content_parse_exception",
                                      "[data_stream] expected an object, got %s" % type(tpl["data_stream"]).__name__)
                ts_type = mapping_props(tpl).get("@timestamp", {}).get("type", "date")
                if is_ds_template(tpl) and ts_type not in ("date", "date_nanos"):
                    return self.error(400, "illegal_argument_exception",
                                      "data stream timestamp field [@timestamp] is of type [%s], but [date,date_nanos] "
                                      "is expected" % ts_type)
                old = STORE.templates.get(name)
                STORE.templates[name] = tpl
                lost = [n for n in sorted(STORE.data_streams) if not is_ds_template(matching_template(n)[1])]
                if lost:  # every data stream must keep a data stream template
                    if old is None:
                        del STORE.templates[name]
                    else:
                        STORE.templates[name] = old
                    return self.error(400, "illegal_argument_exception",
                                      "composable template [%s] with index patterns %s, priority [%s] would cause "
                                      "data streams [%s] to no longer match a data stream template"
                                      % (name, json.dumps(tpl["index_patterns"]), tpl.get("priority"), ", ".join(lost)))
                STORE.props_cache = {}
                STORE.c["template_puts"] += 1
                STORE.log.append(["template_put", name])
                return self.send(200, {"acknowledged": True})
            if method == "DELETE":
                if not exists:
                    return self.error(404, "resource_not_found_exception", "index_template [%s] missing" % name)
                users = [n for n in sorted(STORE.data_streams) if matching_template(n)[0] == name]
                if users:
                    return self.error(400, "illegal_argument_exception",
                                      "unable to remove composable templates [%s] as they are in use by a data "
                                      "streams [%s]" % (name, ", ".join(users)))
                del STORE.templates[name]
                STORE.props_cache = {}
                return self.send(200, {"acknowledged": True})
        return self.error(405, "method_not_allowed", "method not allowed")

    def data_stream(self, method, expr):
        with STORE.lock:
            if method == "GET":
                names, missing = resolve_data_streams(expr)
                if names is None:
                    return self.error(404, "index_not_found_exception", "no such index [%s]" % missing)
                return self.send(200, {"data_streams": [ds_info(n) for n in names]})
            if method == "PUT":
                if not expr or "*" in expr or "," in expr:
                    return self.error(400, "invalid_index_name_exception",
                                      "Invalid index name [%s], must not contain the following characters ['*',',']" % expr)
                if expr in STORE.data_streams:
                    return self.error(400, "resource_already_exists_exception", "data_stream [%s] already exists" % expr)
                if expr in STORE.indices:
                    return self.error(400, "resource_already_exists_exception", "index [%s] already exists" % expr)
                if not is_ds_template(matching_template(expr)[1]):
                    return self.error(400, "illegal_argument_exception",
                                      "no matching index template found for data stream [%s]" % expr)
                create_data_stream(expr)
                return self.send(200, {"acknowledged": True})
            if method == "DELETE":
                names, missing = resolve_data_streams(expr)
                if names is None:
                    return self.error(404, "index_not_found_exception", "no such index [%s]" % missing)
                for n in names:
                    delete_data_stream(n)
                return self.send(200, {"acknowledged": True})
        return self.error(405, "method_not_allowed", "method not allowed")

    def bulk(self, default_index, body, raw, gz, fault):
        if body and not body.endswith(b"\n"):
            return self.error(400, "illegal_argument_exception",
                              "The bulk request must be terminated by a newline [\\n]")
        t0 = time.time()
        lines = body.split(b"\n")[:-1] if body else []
        items = []
        errors = False
        store = not (fault and fault.mode in ("malformed", "close_mid_response") and not fault.store)
        fail_left = fault.items if fault and fault.mode == "fail_items" else 0
        with STORE.lock:
            STORE.c["bulk_requests"] += 1
            STORE.c["bulk_bytes"] += len(raw)
            STORE.c["bulk_bytes_raw"] += len(body)
            STORE.c["bulk_header_bytes"] += len(str(self.headers)) + len(self.requestline) + 2
            STORE.c["bulk_gzip"] += 1 if gz else 0
            STORE.last_bulk_headers = {k.lower(): v for k, v in self.headers.items()
                                       if k.lower().startswith("x-") or k.lower() in ("user-agent", "content-type")}
            if not STORE.templates and not any(e[0] == "bulk" for e in STORE.log):
                STORE.first_bulk_before_template = True
            if len([e for e in STORE.log if e[0] == "bulk"]) < 20:
                STORE.log.append(["bulk", len(lines) // 2])
            i = 0
            while i < len(lines):
                if not lines[i].strip():
                    i += 1
                    continue
                try:
                    action = json.loads(lines[i])
                    op, meta = next(iter(action.items()))
                except (ValueError, StopIteration, AttributeError) as e:
                    return self.error(400, "illegal_argument_exception", "Malformed action/metadata line [%d]: %s" % (i + 1, e))
                if op not in ("index", "create"):
                    return self.error(400, "illegal_argument_exception", "Unsupported action [%s]" % op)
                if i + 1 >= len(lines):
                    return self.error(400, "illegal_argument_exception", "Validation Failed: 1: no requests added;")
                index = meta.get("_index", default_index)
                if meta.get("pipeline"):
                    STORE.pipelines[meta["pipeline"]] = STORE.pipelines.get(meta["pipeline"], 0) + 1
                doc_id = meta.get("_id")
                STORE.c["bulk_items"] += 1
                item = {"_index": index, "_id": doc_id}
                try:
                    src = json.loads(lines[i + 1])
                    if not isinstance(src, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    src = None
                    item.update(status=400, error={"type": "mapper_parsing_exception",
                                                   "reason": "failed to parse: %s" % e})
                i += 2
                if src is None:
                    pass
                elif index is None:
                    item.update(status=400, error={"type": "action_request_validation_exception",
                                                   "reason": "index is missing"})
                elif fail_left > 0:
                    fail_left -= 1
                    st = fault.status
                    et = "es_rejected_execution_exception" if st == 429 else (
                        "mapper_parsing_exception" if st == 400 else "unavailable_shards_exception")
                    item.update(status=st, error={"type": et, "reason": "injected item failure (%d)" % st})
                elif not store:
                    item.update(status=201, result="created", _id=doc_id or "x")
                else:
                    target, werr = write_target(index, op)
                    if werr:
                        st, result, err, did = werr[0], None, werr[1], doc_id
                    else:
                        item["_index"] = target  # a data stream write names the backing index
                        st, result, err, did = store_doc(target, doc_id, src, op)
                    item.update(status=st, _id=did)
                    if err:
                        item["error"] = err
                    else:
                        item.update(result=result, _version=1, _seq_no=0, _primary_term=1,
                                    _shards={"total": 1, "successful": 1, "failed": 0})
                if item["status"] >= 300:
                    errors = True
                    if item["status"] != 409:
                        STORE.c["items_failed"] += 1
                items.append({op: item})
        resp = json.dumps({"took": int((time.time() - t0) * 1000), "errors": errors, "items": items}).encode()
        if fault and fault.mode == "malformed":
            return self.send(200, raw=b'{"took": 3, "errors": fals' + b"<html>proxy error</html>")
        if fault and fault.mode == "close_mid_response":
            self.send_response(200)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(resp)))
            self.end_headers()
            self.wfile.write(resp[: max(1, len(resp) // 2)])
            self.wfile.flush()
            return self.reset_connection()
        return self.send(200, raw=resp)

    def search(self, index, what, params, body):
        q = json.loads(body) if body else {}
        if "q" in params:
            f, _, v = params["q"].partition(":")
            q = {"query": {"match": {f: v}}}
        with STORE.lock:
            hits, missing = run_query(index, q)
        if hits is None:
            return self.error(404, "index_not_found_exception", "no such index [%s]" % missing)
        if what == "_count":
            return self.send(200, {"count": len(hits), "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}})
        hits = sort_hits(hits, q.get("sort"))
        size = int(params.get("size", q.get("size", 10)))
        start = int(params.get("from", q.get("from", 0)))
        page = hits[start:start + size]
        inc = q.get("_source")
        if isinstance(inc, dict):
            inc = inc.get("includes")
        if isinstance(inc, str):
            inc = [inc]
        if isinstance(inc, list):
            page = [(n, i, source_filter(s, inc)) for n, i, s in page]
        return self.send(200, {
            "took": 1, "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0 if page else None,
                     "hits": [{"_index": n, "_id": i, "_score": 1.0, "_source": s} for n, i, s in page]}})

    def doc(self, method, parts, params, body):
        index = parts[0]
        doc_id = parts[2] if len(parts) > 2 else None
        if method in ("GET", "HEAD", "DELETE") and index in STORE.data_streams:
            return self.error(400, "illegal_argument_exception", DS_NOT_CONCRETE % index, head=(method == "HEAD"))
        if method == "GET" or method == "HEAD":
            with STORE.lock:
                src = STORE.indices.get(index, {}).get(doc_id)
            if src is None:
                return self.send(404, {"_index": index, "_id": doc_id, "found": False}, head=(method == "HEAD"))
            return self.send(200, {"_index": index, "_id": doc_id, "_version": 1, "found": True, "_source": src},
                             head=(method == "HEAD"))
        if method == "DELETE":
            with STORE.lock:
                gone = STORE.indices.get(index, {}).pop(doc_id, None)
            return self.send(200 if gone else 404, {"_index": index, "_id": doc_id,
                                                    "result": "deleted" if gone else "not_found"})
        src = json.loads(body)
        if not isinstance(src, dict):
            return self.error(400, "mapper_parsing_exception", "document must be an object")
        # without an id (POST <index>/_doc) the op is create, as in Elasticsearch
        op = "create" if parts[1] == "_create" or params.get("op_type") == "create" or doc_id is None else "index"
        with STORE.lock:
            target, werr = write_target(index, op)
            if werr:
                st, result, err, did = werr[0], None, werr[1], doc_id
            else:
                st, result, err, did = store_doc(target, doc_id, src, op)
        if err:
            return self.send(st, {"error": dict(err, root_cause=[err]), "status": st})
        return self.send(st, {"_index": target, "_id": did, "_version": 1, "result": result,
                              "_shards": {"total": 1, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1})

    def index_admin(self, method, name):
        with STORE.lock:
            names, _ = resolve_indices(name)
            if method == "HEAD":
                return self.send(200 if names else 404, head=True)
            if method == "PUT":
                tname, tpl = matching_template(name)
                if name not in STORE.indices and (name in STORE.data_streams or is_ds_template(tpl)):
                    return self.error(400, "illegal_argument_exception",
                                      "cannot create index with name [%s], because it matches with template [%s] "
                                      "that creates data streams only, use create data stream api instead"
                                      % (name, tname))
                STORE.indices.setdefault(name, {})
                return self.send(200, {"acknowledged": True, "shards_acknowledged": True, "index": name})
            if method == "DELETE":
                for part in name.split(","):
                    if part in STORE.data_streams:
                        return self.error(400, "illegal_argument_exception", DS_NOT_CONCRETE % part)
                    if part in STORE.backing:
                        return self.error(400, "illegal_argument_exception",
                                          "index [%s] is the write index for data stream [%s] and cannot be deleted"
                                          % (part, STORE.backing[part]))
                names, _ = resolve_indices(name, data_streams=False)
                for n in names or []:
                    STORE.indices.pop(n, None)
                    STORE.hashes.pop(n, None)
                return self.send(200, {"acknowledged": True})
            if method == "GET":
                if not names:
                    return self.error(404, "index_not_found_exception", "no such index [%s]" % name)
                out = {}
                for n in names:
                    out[n] = {"aliases": {}, "mappings": {}, "settings": {}}
                    if n in STORE.backing:
                        out[n]["data_stream"] = STORE.backing[n]
                return self.send(200, out)
        return self.error(405, "method_not_allowed", "method not allowed")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr):
        super().__init__(addr, Handler)
        self.timeout = 0.1
        self.refuse_until = 0.0
        self.closed = False
        self.running = True
        self.lock = threading.Lock()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # clients that go away (timeouts, cut connections) are expected here
        super().handle_error(request, client_address)

    def refuse_for(self, seconds):
        with self.lock:
            self.refuse_until = time.time() + seconds

    def loop(self):
        while self.running:
            with self.lock:
                refusing = time.time() < self.refuse_until
            if refusing and not self.closed:
                self.socket.close()
                self.closed = True
            elif not refusing and self.closed:
                self.socket = socket.socket(self.address_family, self.socket_type)
                self.server_bind()
                self.server_activate()
                self.closed = False
            if self.closed:
                time.sleep(0.05)
                continue
            self.handle_request()

    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if TLS["ctx"] is not None:
            self.socket = TLS["ctx"].wrap_socket(self.socket, server_side=True)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.socket.getsockname()[:2]


def main():
    global SERVER
    ap = argparse.ArgumentParser(description="Elasticsearch-compatible test server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--user", help="require basic auth user:password")
    ap.add_argument("--api-key", help="require ApiKey id:key")
    ap.add_argument("--port-file", help="write the chosen port here")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate")
    ap.add_argument("--fast", action="store_true", help="skip mapping checks and content hashes (benchmarks)")
    ap.add_argument("--refuse-for", type=float, default=0, help="start with the listener closed this long")
    a = ap.parse_args()
    global FAST
    FAST = a.fast
    if a.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        TLS["ctx"] = ctx
    AUTH["basic"] = a.user
    AUTH["apikey"] = a.api_key
    SERVER = Server((a.bind, a.port))
    port = SERVER.server_port
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.rename(a.port_file + ".tmp", a.port_file)
    print("es_server listening on %s:%d" % (a.bind, port), flush=True)
    if a.refuse_for > 0:
        SERVER.refuse_for(a.refuse_for)
    try:
        SERVER.loop()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
