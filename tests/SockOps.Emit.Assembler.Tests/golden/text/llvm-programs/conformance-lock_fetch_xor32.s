# The suite's tests/lock_fetch_xor32.data written in LLVM syntax.
  r0 = 0xcccccccccccccccc ll
  r1 = 0xffffffffffffffff ll
  *(u64 *)(r10 - 8) = r0
  w1 = atomic_fetch_xor((u32 *)(r10 - 8), w1)
  if w1 != w0 goto done
  r0 = *(u64 *)(r10 - 8)
  r1 = 0xcccccccc33333333 ll
  if r0 != r1 goto done
  r0 = 0
done:
  exit
