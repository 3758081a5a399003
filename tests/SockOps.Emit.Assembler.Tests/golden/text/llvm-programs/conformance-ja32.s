# The suite's tests/ja32.data written in LLVM syntax (ja32 is gotol).
  r1 = 0
  gotol L2
L1:
  r2 = 0
  exit
L2:
  r0 = 0
  gotol L1
