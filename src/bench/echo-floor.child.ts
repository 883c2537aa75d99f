// The platform floor for service.validate: a bare Node echo server on a Unix socket, in its own
// process (no framing, no device). What the bench measures against it is what Node and this machine
// charge for one cross-process round trip, before win11mon does any work.
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';

const path = process.argv[2]!;
rmSync(path, { force: true });
const server = createServer((s) => { s.on('data', (c) => s.write(c)); s.on('error', () => {}); });
server.listen(path, () => process.send!({ path }));
process.on('message', (m) => {
  if (m === 'cpu') process.send!({ type: 'cpu', usage: process.cpuUsage() }); // CPU accounting rows (see cpuOf in service.bench.ts)
  else if (m === 'stop') server.close(() => process.disconnect());
});
// A bench killed before it could say stop must not leave this server running.
process.on('disconnect', () => { server.close(); process.exit(0); });
