#!/usr/bin/env bash
# Example queries over xdpbeat events in Elasticsearch (for the README).
# usage: tests/es_queries.sh [ES_URL] [query-name]
#   ES_URL defaults to http://localhost:9200; names: slow_http, http_errors,
#   dns_nxdomain, redis_errors (all of them when omitted). Add -u user:pass
#   to the curl lines (or CURL_AUTH="-u elastic:changeme") on a secured cluster.
ES=${1:-http://localhost:9200}
ONLY=${2:-}
AUTH=${CURL_AUTH:-}

q() { # q NAME PATH BODY
	[ -n "$ONLY" ] && [ "$ONLY" != "$1" ] && return
	[ -z "$ONLY" ] && echo "## $1"
	curl -s $AUTH -H 'Content-Type: application/json' "$ES/$2" -d "$3"
	echo
}

# Slow HTTP requests: transactions that took 1 s or more, slowest first
# (event.duration is in nanoseconds, as in ECS).
q slow_http 'xdpbeat-*/_search' '{
  "size": 10,
  "sort": [{"event.duration": "desc"}],
  "_source": ["@timestamp", "url.full", "http.response.status_code", "event.duration"],
  "query": {"bool": {"filter": [
    {"term": {"network.protocol": "http"}},
    {"range": {"event.duration": {"gte": 1000000000}}}
  ]}}
}'

# HTTP errors: how many responses had status 400 or above.
q http_errors 'xdpbeat-*/_count' '{
  "query": {"bool": {"filter": [
    {"term": {"network.protocol": "http"}},
    {"range": {"http.response.status_code": {"gte": 400}}}
  ]}}
}'

# DNS lookups of names that do not exist (NXDOMAIN), with who asked.
q dns_nxdomain 'xdpbeat-*/_search' '{
  "size": 20,
  "_source": ["@timestamp", "client.ip", "dns.question.name", "dns.question.type"],
  "query": {"term": {"dns.response_code": "NXDOMAIN"}}
}'

# Redis commands answered with an error.
q redis_errors 'xdpbeat-*/_search' '{
  "size": 20,
  "_source": ["@timestamp", "method", "resource", "redis.error"],
  "query": {"bool": {"filter": [
    {"term": {"network.protocol": "redis"}},
    {"exists": {"field": "redis.error"}}
  ]}}
}'
