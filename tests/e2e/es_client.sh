#!/usr/bin/env bash
# The official Python client (python3-elasticsearch) against the test server:
# product check, templates, indexing, bulk helper, search and count; then the
# documents xdpbeat sent, searched through the client.
set -u
. "$(dirname "$0")/../es_lib.sh"

if ! $PY -c 'import elasticsearch' 2>/dev/null; then
	echo "es_client: python3-elasticsearch missing (scripts/install-deps.sh)"
	exit 1
fi
es_start --user elastic:secret
es_pcap c 40 --conns 2
xb_run x "$ES_TMP/c.pcap" -E output.elasticsearch.username=elastic -E output.elasticsearch.password=secret

$PY - "$ES_PORT" <<'PYEOF'
import sys
import elasticsearch
from elasticsearch import Elasticsearch, helpers

port = sys.argv[1]
fails = 0


def check(what, ok):
    global fails
    print("  %s %s" % ("ok  " if ok else "FAIL", what))
    fails += 0 if ok else 1


import warnings
warnings.simplefilter("ignore")
es = Elasticsearch("http://127.0.0.1:%s" % port, http_auth=("elastic", "secret"))
info = es.info()
check("info: version 8.x, product check passed", info["version"]["number"].startswith("8."))
try:
    Elasticsearch("http://127.0.0.1:%s" % port, http_auth=("elastic", "nope")).info()
    check("wrong password rejected", False)
except elasticsearch.AuthenticationException:
    check("wrong password rejected", True)

es.indices.put_index_template(name="demo", body={"index_patterns": ["demo-*"], "template": {
    "mappings": {"properties": {"n": {"type": "long"}, "ip": {"type": "ip"}, "msg": {"type": "text"}}}}})
check("template exists", es.indices.exists_index_template(name="demo"))
check("template get", es.indices.get_index_template(name="demo")["index_templates"][0]["name"] == "demo")

r = es.index(index="demo-1", id="a", document={"n": 1, "ip": "10.1.2.3", "msg": "hello brave world"})
check("index one: created", r["result"] == "created")
ok, errs = helpers.bulk(es, ({"_index": "demo-2", "_source": {"n": i, "ip": "10.0.0.%d" % i, "msg": "m%d" % i}}
                             for i in range(2, 52)))
check("bulk helper: 50 ok", ok == 50 and not errs)
try:
    es.index(index="demo-1", document={"n": "not a number"})
    check("mapping error is a 400", False)
except elasticsearch.BadRequestError if hasattr(elasticsearch, "BadRequestError") else elasticsearch.RequestError:
    check("mapping error is a 400", True)
try:
    es.create(index="demo-1", id="a", document={"n": 9})
    check("create on existing id is a 409", False)
except elasticsearch.ConflictError:
    check("create on existing id is a 409", True)

es.indices.refresh(index="demo-*")
check("count demo-*", es.count(index="demo-*")["count"] == 51)
check("count comma list", es.count(index="demo-1,demo-2")["count"] == 51)
check("get by id", es.get(index="demo-1", id="a")["_source"]["n"] == 1)
check("term", es.search(index="demo-*", query={"term": {"ip": "10.0.0.7"}})["hits"]["total"]["value"] == 1)
check("match", es.search(index="demo-*", query={"match": {"msg": "brave"}})["hits"]["hits"][0]["_id"] == "a")
r = es.search(index="demo-*", query={"range": {"n": {"gte": 10, "lt": 20}}}, size=3, sort=[{"n": "desc"}])
check("range + size + sort", r["hits"]["total"]["value"] == 10 and [h["_source"]["n"] for h in r["hits"]["hits"]] == [19, 18, 17])
r = es.search(index="demo-*", query={"bool": {"must": [{"range": {"n": {"gte": 40}}}],
                                              "filter": [{"term": {"ip": "10.0.0.45"}}]}})
check("bool must + filter", r["hits"]["total"]["value"] == 1)

# what xdpbeat sent
r = es.search(index="xdpbeat-*", query={"bool": {"filter": [{"term": {"http.response.status_code": 404}},
                                                            {"term": {"network.protocol": "http"}}]}}, size=100)
check("xdpbeat events: 4 of 40 are 404s", r["hits"]["total"]["value"] == 4)
check("xdpbeat events: 40 stored", es.count(index="xdpbeat-*")["count"] == 40)
es.indices.delete_index_template(name="demo")
check("template deleted", not es.indices.exists_index_template(name="demo"))
sys.exit(1 if fails else 0)
PYEOF
rc=$?
[ $rc -eq 0 ] || ES_FAILS=$((ES_FAILS + 1))
es_done
