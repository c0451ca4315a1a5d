#!/usr/bin/python3
"""Check an index template against the fields xdpbeat writes.

  template_fields.py TEMPLATE.json FIELDS.tsv README.md EVENTS.ndjson...
  template_fields.py --duplicates FILE.json    keys given twice in one object

Every leaf of every event must have a row in FIELDS.tsv (tests/template_fields.tsv)
and be mapped by the template with that row's type (a property, a dynamic
template whose path_match covers it, or a flattened parent), and each of its
values must fit that type. Every row must be mapped with its type, and every
field the template names must have a row. The README section "Fields xdpbeat
writes that Packetbeat does not" must list exactly the rows of source xdpbeat.
Prints one line per problem; exit status 1 if there is any.
"""
import fnmatch
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from es_server import check_value  # noqa: E402  (the test server's value checks)


def duplicate_keys(path):
    found = []

    def hook(pairs):
        keys = [k for k, _ in pairs]
        found.extend(sorted({k for k in keys if keys.count(k) > 1}))
        return dict(pairs)

    json.load(open(path), object_pairs_hook=hook)
    return found


def load_rows(path):
    rows = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        cols = line.rstrip("\n").split("\t")
        rows[cols[0]] = {"type": cols[1], "source": cols[2]}
    return rows


def template_props(props, prefix=""):
    for name, spec in props.items():
        path = prefix + name
        if "properties" in spec:
            yield from template_props(spec["properties"], path + ".")
        else:
            yield path, spec.get("type", "object")


def leaves(value, prefix=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, prefix + k + ".")
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for v in value:
            yield from leaves(v, prefix)
    else:
        yield prefix[:-1], value


class Template:
    def __init__(self, path):
        mappings = json.load(open(path))["template"]["mappings"]
        self.props = dict(template_props(mappings.get("properties", {})))
        self.dynamic = []
        for entry in mappings.get("dynamic_templates", []):
            for spec in entry.values():
                if "path_match" in spec:
                    self.dynamic.append((spec["path_match"], spec["mapping"].get("type", "object")))

    def type_of(self, field):
        if field in self.props:
            return self.props[field]
        for pattern, ftype in self.dynamic:
            if fnmatch.fnmatchcase(field, pattern):
                return ftype
        parts = field.split(".")
        for i in range(len(parts) - 1, 0, -1):
            if self.props.get(".".join(parts[:i])) == "flattened":
                return "flattened"
        return None


def row_for(rows, field):
    if field in rows:
        return field
    parts = field.split(".")
    for i in range(len(parts) - 1, 0, -1):
        key = ".".join(parts[:i]) + ".*"
        if key in rows:
            return key
    return None


def readme_fields(path):
    text = open(path).read()
    m = re.search(r"^## Fields xdpbeat writes that Packetbeat does not\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        return None
    return set(re.findall(r"^- `([^`]+)`", m.group(1), re.M))


def main():
    if sys.argv[1] == "--duplicates":
        dups = duplicate_keys(sys.argv[2])
        for k in dups:
            print("  %s: key %r given twice in one object (the last one wins)" % (sys.argv[2], k))
        return 1 if dups else 0
    tpl_path, rows_path, readme_path, events = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    tpl = Template(tpl_path)
    rows = load_rows(rows_path)
    problems = set()
    seen = 0
    for path in events:
        for n, line in enumerate(open(path), 1):
            if not line.strip():
                continue
            seen += 1
            for field, value in leaves(json.loads(line)):
                if field.startswith("@metadata."):
                    continue  # not indexed: the output takes it out of the document
                key = row_for(rows, field)
                if key is None:
                    problems.add("%s: not in %s (%s)" % (field, os.path.basename(rows_path), os.path.basename(path)))
                    continue
                want = rows[key]["type"]
                if want == "-":
                    continue
                have = tpl.type_of(field)
                if have is None:
                    problems.add("%s: not mapped by the template (want %s)" % (field, want))
                elif have != want:
                    problems.add("%s: mapped as %s, want %s" % (field, have, want))
                else:
                    why = check_value(have, value)
                    if why:
                        problems.add("%s: value %r does not fit %s: %s (%s:%d)" %
                                     (field, value, have, why, os.path.basename(path), n))
    for key, row in rows.items():
        if row["type"] == "-":
            continue
        have = tpl.type_of(key.replace("*", "x-example"))
        if have != row["type"]:
            problems.add("%s: row says %s, template maps %s" % (key, row["type"], have or "nothing"))
    for field, ftype in tpl.props.items():
        # an object without properties is mapped by a dynamic template: its leaves need a row
        if row_for(rows, field + ".x" if ftype == "object" else field) is None:
            problems.add("%s: in the template but has no row in %s" % (field, os.path.basename(rows_path)))
    listed = readme_fields(readme_path)
    extra = {k for k, r in rows.items() if r["source"] == "xdpbeat"}
    if listed is None:
        problems.add("README: no section 'Fields xdpbeat writes that Packetbeat does not'")
    elif listed != extra:
        problems.add("README extra fields differ from the xdpbeat rows: missing %s, not xdpbeat-only %s" %
                     (sorted(extra - listed), sorted(listed - extra)))
    for p in sorted(problems):
        print("  " + p)
    print("template_fields: %d events, %d rows, %d template fields, %d problems" %
          (seen, len(rows), len(tpl.props), len(problems)))
    return 1 if problems or not seen else 0


if __name__ == "__main__":
    sys.exit(main())
