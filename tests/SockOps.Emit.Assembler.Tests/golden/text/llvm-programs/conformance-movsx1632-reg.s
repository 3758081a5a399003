# The suite's tests/movsx1632-reg.data written in LLVM syntax.
  r1 = 0x0123456789abcdef ll
  w0 = (s16)w1
  exit
