# The suite's tests/stack.data written in LLVM syntax (stdw is a store of an immediate).
  r1 = 51
  *(u64 *)(r10 - 16) = 0xab
  *(u64 *)(r10 - 8) = 0xcd
  r1 &= 1
  r1 <<= 3
  r2 = r10
  r2 += r1
  r0 = *(u64 *)(r2 - 16)
  exit
