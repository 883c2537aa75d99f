// Kernel objects of the emulation (files, pipe ends, events, tokens, processes, IoRings) and the
// per-process handle table entries that NtQuerySystemInformation(SystemHandleInformation) reports.
import { closeSync, fsyncSync, readSync, writeSync } from 'node:fs';
import type { Region, Section } from './memory.js';

/** Object type names as Windows spells them (ObjectTypeInformation). */
export type ObjectTypeName = 'Process' | 'Token' | 'Event' | 'File' | 'IoRing';

/**
 * ObjectTypeIndex values the emulated SystemHandleInformation reports. Emulator-chosen: real
 * indexes differ between builds (and, since Windows 10, are XOR-encoded in the object header).
 */
export const OBJECT_TYPE_INDEX: Readonly<Record<ObjectTypeName, number>> = Object.freeze({
  Token: 5, Process: 7, Event: 16, File: 37, IoRing: 63,
});

/** Access masks used by the emulation (winnt.h / ntifs.h values). */
export const Access = {
  FILE_READ_DATA: 0x0001,
  FILE_WRITE_DATA: 0x0002,
  FILE_APPEND_DATA: 0x0004,
  SYNCHRONIZE: 0x00100000,
  FILE_GENERIC_READ: 0x00120089,
  FILE_GENERIC_WRITE: 0x00120116,
  FILE_ALL_ACCESS: 0x001f01ff,
  GENERIC_READ: 0x80000000,
  GENERIC_WRITE: 0x40000000,
  GENERIC_ALL: 0x10000000,
  EVENT_ALL_ACCESS: 0x001f0003,
  TOKEN_QUERY: 0x0008,
  TOKEN_ADJUST_PRIVILEGES: 0x0020,
  TOKEN_ALL_ACCESS: 0x000f01ff,
  /** Emulator choice for IoRing handles (the IoRing type's access mask is not documented). */
  IORING_ALL_ACCESS: 0x001f0003,
} as const;

export interface KernelObjectBase {
  readonly typeName: ObjectTypeName;
  /** Kernel address of the object body (what SystemHandleInformation reports as Object). */
  readonly hi: number;
  readonly lo: number;
  /** Handles plus kernel references (RegFiles entries). The object dies at zero. */
  refs: number;
  deleted: boolean;
}

/** A FILE_OBJECT over a real file on disk. */
export interface DiskFileObject extends KernelObjectBase {
  readonly typeName: 'File';
  readonly kind: 'disk';
  readonly path: string;
  fd: number;
  /** CurrentByteOffset, for FILE_USE_FILE_POINTER_POSITION. */
  position: number;
}

/** One end of a named pipe (server or client). Data written to one end is read from the other. */
export interface PipeEndObject extends KernelObjectBase {
  readonly typeName: 'File';
  readonly kind: 'pipe';
  readonly pipeName: string;
  readonly server: boolean;
  peer: PipeEndObject | undefined;
  /** Bytes waiting to be read at this end. */
  readonly inbound: Uint8Array[];
  inboundBytes: number;
  /** Offset already consumed in inbound[0]. */
  headOffset: number;
  peerClosed: boolean;
}

export type FileObject = DiskFileObject | PipeEndObject;

export interface EventObject extends KernelObjectBase {
  readonly typeName: 'Event';
  /** Body is a KEVENT: DISPATCHER_HEADER Type@0 (0 notification, 1 synchronization), Size@2, SignalState@4. */
}

export interface TokenObject extends KernelObjectBase {
  readonly typeName: 'Token';
  readonly pid: number;
}

export interface ProcessObject extends KernelObjectBase {
  readonly typeName: 'Process';
  readonly pid: number;
}

/** Kernel-side bookkeeping for one IORING_OBJECT; the object's fields themselves live in emulated memory. */
export interface IoRingObject extends KernelObjectBase {
  readonly typeName: 'IoRing';
  readonly ownerPid: number;
  readonly version: number;
  readonly section: Section;
  readonly userRegion: Region;
  readonly sqKernelRegion: Region;
  readonly cqKernelRegion: Region;
  /** User VAs of the queues (NT_IORING_INFO.SubmissionQueue / CompletionQueue). */
  readonly sqUserHi: number;
  readonly sqUserLo: number;
  readonly cqUserHi: number;
  readonly cqUserLo: number;
  /** Addresses of the section object and the CQ MDL (pool blocks freed at teardown). */
  readonly sectionObjHi: number;
  readonly sectionObjLo: number;
  readonly mdlHi: number;
  readonly mdlLo: number;
}

export type KernelObject = DiskFileObject | PipeEndObject | EventObject | TokenObject | ProcessObject | IoRingObject;

export interface HandleEntry {
  readonly value: number;
  readonly object: KernelObject;
  readonly grantedAccess: number;
  readonly attributes: number;
}

/** (hi & 0xFFFF, lo) as one exact number: the pools' high halves differ in their low 16 bits. */
export function objectKey(hi: number, lo: number): number {
  return ((hi >>> 0) & 0xffff) * 0x100000000 + (lo >>> 0);
}

/** Releases the OS resources of a file object when its last reference goes. */
export function destroyFileObject(f: FileObject): void {
  if (f.kind === 'disk') {
    if (f.fd >= 0) {
      closeSync(f.fd);
      f.fd = -1;
    }
  } else if (f.peer) {
    f.peer.peerClosed = true;
    f.peer.peer = undefined;
    f.peer = undefined;
  }
}

/** Reads up to `len` bytes queued at a pipe end into dst; returns the count (0 when empty). */
export function pipeRead(end: PipeEndObject, dst: Uint8Array, dstOff: number, len: number): number {
  let n = 0;
  while (n < len && end.inbound.length > 0) {
    const chunk = end.inbound[0]!;
    const avail = chunk.length - end.headOffset;
    const take = Math.min(avail, len - n);
    dst.set(chunk.subarray(end.headOffset, end.headOffset + take), dstOff + n);
    n += take;
    end.headOffset += take;
    if (end.headOffset >= chunk.length) {
      end.inbound.shift();
      end.headOffset = 0;
    }
  }
  end.inboundBytes -= n;
  return n;
}

export function pipeWrite(end: PipeEndObject, bytes: Uint8Array): boolean {
  const peer = end.peer;
  if (!peer) return false;
  peer.inbound.push(bytes);
  peer.inboundBytes += bytes.length;
  return true;
}

// Re-exported so the ring code has one place for real file I/O.
export const fileIo = { readSync, writeSync, fsyncSync };
