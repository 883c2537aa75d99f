// x64 user/kernel address-space boundaries, checked on (hi, lo) halves without BigInt.
// MmHighestUserAddress 0x00007FFF`FFFEFFFF (Windows 8.1+ x64, 128 TB user space); MmUserProbeAddress
// 0x00007FFF`FFFF0000; MmSystemRangeStart 0xFFFF8000`00000000; MM_LOWEST_USER_ADDRESS 0x10000.
// Sources: shared/reference/ioring-abi.md section 4.1 (Raymond Chen, ReactOS amd64 mm.h).

export const MM_LOWEST_USER_ADDRESS = 0x10000n;
export const MM_HIGHEST_USER_ADDRESS = 0x00007ffffffeffffn;
export const MM_USER_PROBE_ADDRESS = 0x00007fffffff0000n;
export const MM_SYSTEM_RANGE_START = 0xffff800000000000n;

/** The same boundaries as 32-bit halves, for hot paths that compare (hi, lo) without BigInt. */
export const HIGHEST_USER_HI = 0x7fff;
export const HIGHEST_USER_LO = 0xfffeffff;
export const SYSTEM_START_HI = 0xffff8000;

export const AddressClass = {
  /** Exactly zero. */
  Null: 0,
  /** 0x10000 .. MmHighestUserAddress. */
  User: 1,
  /** Above zero but below MM_LOWEST_USER_ADDRESS (never mapped for user mode). */
  LowReserved: 2,
  /** Above MmHighestUserAddress but canonical low half (the 64 KB guard at the top of user space). */
  UserGuard: 3,
  /** The non-canonical hole 0x0000800000000000 .. 0xFFFF7FFFFFFFFFFF. */
  NonCanonical: 4,
  /** MmSystemRangeStart and above. */
  Kernel: 5,
} as const;
export type AddressClassValue = (typeof AddressClass)[keyof typeof AddressClass];
export const ADDRESS_CLASS_NAMES = ['null', 'user', 'low-reserved', 'user-guard', 'non-canonical', 'kernel'] as const;

/** Classifies a 64-bit address given as unsigned halves. */
export function classifyAddress(hi: number, lo: number): AddressClassValue {
  hi >>>= 0;
  lo >>>= 0;
  if (hi === 0) {
    if (lo === 0) return AddressClass.Null;
    return lo < 0x10000 ? AddressClass.LowReserved : AddressClass.User;
  }
  if (hi < HIGHEST_USER_HI || (hi === HIGHEST_USER_HI && lo <= HIGHEST_USER_LO)) return AddressClass.User;
  if (hi <= 0x7fff) return AddressClass.UserGuard;
  if (hi >= SYSTEM_START_HI) return AddressClass.Kernel;
  return AddressClass.NonCanonical;
}

/** True for any address at or above MmSystemRangeStart. */
export function isKernelAddress(hi: number, lo: number): boolean {
  void lo;
  return hi >>> 0 >= SYSTEM_START_HI;
}

/** True when [address, address + length) lies wholly in user space (length 0 counts as the address alone). */
export function isUserRange(hi: number, lo: number, length: number): boolean {
  if (classifyAddress(hi, lo) !== AddressClass.User) return false;
  if (length <= 1) return true;
  // last byte = address + length - 1, computed on halves with carry.
  const sum = (lo >>> 0) + (length - 1);
  const lastLo = sum >>> 0;
  const lastHi = ((hi >>> 0) + Math.floor(sum / 0x100000000)) >>> 0;
  return classifyAddress(lastHi, lastLo) === AddressClass.User;
}

/** True when address + length overflows 2^64 (wraps around). */
export function rangeWraps(hi: number, lo: number, length: number): boolean {
  if (length === 0) return false;
  const sum = (lo >>> 0) + (length - 1);
  return (hi >>> 0) === 0xffffffff && sum > 0xffffffff;
}
