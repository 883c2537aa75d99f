// The ABI layer: Windows IoRing and win11mon binary structures, IOCTL codes, NTSTATUS, errors.
// Pure: no I/O. Every other layer imports from here.
export * from './ntstatus.js';
export * from './errors.js';
export * from './layout.js';
export * from './u64.js';
export * from './bytes.js';
export * from './address.js';
export * from './ioring.js';
export * from './monitor.js';
export * from './ioctl.js';
export * from './request.js';
export * from './serialize.js';
export * from './response.js';
export * from './codec.js';
export * from './decode.js';
