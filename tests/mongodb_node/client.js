// The official MongoDB Node.js driver against tests/mongodb_responder.py:
//   node client.js PORT [COMPRESSOR]
// CRUD, a cursor with getMore, a server error, then prints the driver's
// command monitoring counts as "started=N succeeded=N failed=N".
'use strict';
const { MongoClient } = require('mongodb');

async function main() {
  const port = process.argv[2];
  const compressor = process.argv[3];
  let uri = `mongodb://127.0.0.1:${port}/?directConnection=true&heartbeatFrequencyMS=60000&maxPoolSize=1`;
  if (compressor) uri += `&compressors=${compressor}`;
  const n = { started: 0, succeeded: 0, failed: 0 };
  const client = new MongoClient(uri, { monitorCommands: true, serverSelectionTimeoutMS: 5000 });
  client.on('commandStarted', () => n.started++);
  client.on('commandSucceeded', () => n.succeeded++);
  client.on('commandFailed', () => n.failed++);
  await client.connect();
  const items = client.db('shop').collection(`items_${compressor || 'plain'}`);
  const docs = [];
  for (let i = 1; i <= 7; i++) docs.push({ _id: i, name: `item ${i}`, qty: i * 3 });
  await items.insertMany(docs);
  await items.find({ qty: { $gt: 5 } }, { batchSize: 2 }).toArray();
  await items.updateOne({ _id: 2 }, { $set: { qty: 100 } });
  await items.deleteOne({ _id: 7 });
  await items.aggregate([{ $match: { qty: { $gte: 4 } } }], { batchSize: 3 }).toArray();
  try {
    await client.db('shop').command({ nosuchcommand: 1 });
  } catch (e) {
    // expected: the server says no such command
  }
  await items.findOne({ _id: 3 });
  await client.close();
  console.log(`started=${n.started} succeeded=${n.succeeded} failed=${n.failed}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
