// docs/protocol.md's IOCTL table lists exactly the codes of IOCTL_TABLE, with their access.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IOCTL_TABLE } from '../abi/ioctl.js';

test('docs/protocol.md "IOCTLs" lists every IOCTL of IOCTL_TABLE with its code and access', () => {
  const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## IOCTLs'), doc.indexOf('## Telemetry events'));
  const rows = [...section.matchAll(/^\| (0x[0-9A-Fa-f]{8}) \| (IOCTL_\w+) \| (\w+) \|/gm)].map((m) => ({ code: Number(m[1]), name: m[2], access: m[3] }));
  const names = ['any', 'read', 'write'];
  assert.deepEqual(rows, IOCTL_TABLE.map((d) => ({ code: d.code, name: d.name, access: names[d.access] })));
});
