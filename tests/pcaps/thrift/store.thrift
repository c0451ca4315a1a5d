/*
 * The service of tests/pcaps/make-thrift.sh: every Thrift type in arguments
 * and results, declared exceptions, a oneway method and one that fails with
 * a TApplicationException.
 */
include "shared.thrift"

namespace py xdpstore
namespace java org.example.store

const i32 MAX_ITEMS = 100
const map<string, i32> LIMITS = {"small": 1, "large": 10}

typedef i64 Timestamp

enum Color {
  RED = 1,
  GREEN = 2,
}

struct Item {
  1: i32 id,
  2: string name,
  3: list<string> tags,
  4: map<string, i32> counts,
  5: set<i16> codes,
  6: double price,
  7: bool active = true,
  8: Timestamp created,
  9: i8 flags,
  10: optional binary blob,
  11: Color color,
}

exception NotFound {
  1: i32 code,
  2: string message,
}

exception Invalid {
  1: string why (doc = "the reason"),
}

service Store extends shared.SharedService {
  void ping(),
  i32 add(1: i32 num1, 2: i32 num2),
  Item getItem(1: i32 id) throws (1: NotFound notFound, 2: Invalid invalid),
  list<Item> listItems(1: list<i32> ids, 2: map<string, string> filter),
  set<string> tags(1: set<string> names),
  bool putItem(1: required Item item) throws (1: Invalid invalid),
  oneway void log(1: string line, 2: i16 level),
  string echo(1: string s),
  double average(1: list<double> values),
  map<i32, list<string>> nested(1: list<map<string, set<i32>>> deep),
  void fail(),
}
