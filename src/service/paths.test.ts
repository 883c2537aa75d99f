import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Win11MonError } from '../abi/index.js';
import { defaultDataDir, defaultSocketDir, endpointPaths } from './paths.js';
import { listenPipe } from './server.js';

test('endpointPaths: socket files in the directory on Linux, named pipes carrying the directory on Windows', () => {
  assert.deepEqual(endpointPaths('/run/user/5/win11mon', 'linux'), { device: '/run/user/5/win11mon/device.sock', admin: '/run/user/5/win11mon/admin.sock', kind: 'unix' });
  assert.deepEqual(endpointPaths('C:\\Users\\a\\AppData\\Local\\win11mon', 'win32'), {
    device: '\\\\?\\pipe\\C:\\Users\\a\\AppData\\Local\\win11mon\\device.sock',
    admin: '\\\\?\\pipe\\C:\\Users\\a\\AppData\\Local\\win11mon\\admin.sock',
    kind: 'pipe',
  });
  // Two spellings of one directory name one pair of pipes (the path is resolved first).
  assert.equal(endpointPaths('C:\\w\\x\\..\\svc\\', 'win32').admin, endpointPaths('C:\\w\\svc', 'win32').admin);
  // A pipe path given as the directory is used as it is, in either prefix form and any case.
  assert.equal(endpointPaths('\\\\.\\pipe\\win11mon-test', 'win32').device, '\\\\.\\pipe\\win11mon-test\\device.sock');
  assert.equal(endpointPaths('\\\\?\\PIPE\\t', 'win32').admin, '\\\\?\\PIPE\\t\\admin.sock');
  // The two endpoints never share a name.
  for (const p of ['linux', 'darwin', 'win32'] as const) {
    const e = endpointPaths(p === 'win32' ? 'D:\\s' : '/s', p);
    assert.notEqual(e.device, e.admin);
  }
});

test('default directories: per user on Windows too (LOCALAPPDATA, else USERPROFILE\\AppData\\Local)', () => {
  assert.equal(defaultSocketDir({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32'), 'C:\\Users\\a\\AppData\\Local\\win11mon');
  assert.equal(defaultSocketDir({ USERPROFILE: 'C:\\Users\\b' }, 'win32'), 'C:\\Users\\b\\AppData\\Local\\win11mon');
  assert.equal(defaultSocketDir({ WIN11MON_SOCKET_DIR: 'E:\\s', LOCALAPPDATA: 'C:\\L' }, 'win32'), 'E:\\s');
  assert.equal(defaultDataDir({ LOCALAPPDATA: 'C:\\L' }, 'win32'), 'C:\\L\\win11mon\\state');
  assert.equal(defaultDataDir({ WIN11MON_DATA_DIR: 'E:\\d', LOCALAPPDATA: 'C:\\L' }, 'win32'), 'E:\\d');
  // XDG variables mean nothing on Windows.
  assert.equal(defaultSocketDir({ XDG_RUNTIME_DIR: '/run/user/5', LOCALAPPDATA: 'C:\\L' }, 'win32'), 'C:\\L\\win11mon');
});

test('listenPipe (the Windows branch of startService): opens the endpoint to everyone when asked, and refuses a name another process holds', async () => {
  // Run on a Unix socket: the same listen options (readableAll/writableAll are libuv's uv_pipe_chmod
  // on both platforms) and the same EADDRINUSE for a name in use; the pipe DACL itself needs Windows.
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-pipe-'));
  const path = join(dir, 'device.sock');
  const first = createServer();
  const second = createServer();
  try {
    await listenPipe(first, path, true);
    assert.equal(statSync(path).mode & 0o666, 0o666, 'everyone may read and write the device endpoint');
    await assert.rejects(listenPipe(second, path, false), (e: unknown) => {
      assert.ok(e instanceof Win11MonError);
      assert.equal(e.code, 'WIN11MON_ERR_SERVICE_RUNNING');
      assert.match(e.message, /another process holds the pipe .*device\.sock/);
      assert.equal(e.detail.actual, path);
      return true;
    });
    assert.equal(second.listening, false);
  } finally {
    await new Promise<void>((r) => first.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
