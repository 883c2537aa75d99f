// The emulated Windows 11 IoRing kernel (win11mon's test bench): memory, pools, processes and
// handles, IORING_OBJECT at per-build offsets (plan 5B), the Nt* syscalls, a KernelBase-like user
// layer, the public IoRing read/write exploit re-enacted, and a benign workload generator.
//
// @example
// import { EmulatedKernel, CreateIoRing, runIoRingExploit } from './kernel/index.js';
// const kernel = new EmulatedKernel({ build: 22621, dataDir: '/tmp/w11' });
// const result = runIoRingExploit(kernel);      // no monitor: result.tokenModified === true
// kernel.close();
export * from './memory.js';
export * from './pool.js';
export * from './offsets.js';
export * from './objects.js';
export * from './ntapi.js';
export * from './process.js';
export * from './kernel.js';
export * from './ioring.js';
export * from './kernelbase.js';
export * from './exploit.js';
export * from './workload.js';
