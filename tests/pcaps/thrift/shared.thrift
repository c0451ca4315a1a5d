// Included by store.thrift: a base service whose methods the Store serves too.
namespace py xdpshared

struct SharedStruct {
  1: i32 key
  2: string value
}

service SharedService {
  SharedStruct getStruct(1: i32 key)
}
