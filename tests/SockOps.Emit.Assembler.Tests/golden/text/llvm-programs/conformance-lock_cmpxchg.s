# The suite's tests/lock_cmpxchg.data written in LLVM syntax; its jump target 'exit' is the first exit.
  r0 = 0x123456789abcdef0 ll
  *(u64 *)(r10 - 8) = r0
  r1 = 0x1122334455667788 ll
  r0 = 0xfedcba987654321 ll
  r0 = cmpxchg_64(r10 - 8, r0, r1)
  r1 = 0x123456789abcdef0 ll
  if r0 != r1 goto first_exit
  r0 = *(u64 *)(r10 - 8)
  if r0 != r1 goto first_exit
  r0 = 0x123456789abcdef0 ll
  *(u64 *)(r10 - 8) = r0
  r1 = 0x1122334455667788 ll
  r0 = cmpxchg_64(r10 - 8, r0, r1)
  r1 = 0x123456789abcdef0 ll
  if r0 != r1 goto first_exit
  r0 = *(u64 *)(r10 - 8)
  r1 = 0x1122334455667788 ll
  if r0 != r1 goto first_exit
  r0 = 0
first_exit:
  exit
