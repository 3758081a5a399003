# The suite's tests/rfc9669_call_local.data written in LLVM syntax (cross-check of the conformance dialect).
  r1 = 1
  r2 = 2
  r3 = 3
  r4 = 4
  r5 = 5
  call func1
  if r0 != 15 goto fail
  r0 = 1
  exit
fail:
  r0 = 0
  exit
func1:
  r0 = 0
  r0 += r1
  r0 += r2
  r0 += r3
  r0 += r4
  r0 += r5
  exit
