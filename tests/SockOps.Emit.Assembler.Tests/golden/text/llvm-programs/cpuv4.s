# cpu v4 forms (llvm-mc 19 -mcpu=v4): gotol to labels, may_goto, sdiv/smod, movsx, ldsx, bswap.
start:
  gotol far
  r1 s/= r2
  w1 s%= 5
  r1 = (s8)r2
  r3 = (s32)r4
  w1 = (s16)w2
  r1 = *(s8 *)(r2 + 0)
  r3 = *(s32 *)(r10 - 8)
  r1 = bswap16 r1
  r1 = bswap64 r1
  may_goto start
  gotol start
far:
  if r1 & r2 goto start
  if w3 & 5 goto far
  *(u32 *)(r10 - 8) = 5
  *(u64 *)(r10 - 16) = -1
  callx r3
  exit
