# bpf-to-bpf calls (forward and backward), helper calls, numeric offsets.
main:
  r1 = 1
  call add_one
  call 5
  r6 = r0
  goto +1
  r0 = 0
  exit
add_one:
  r0 = r1
  r0 += 1
  call twice
  exit
twice:
  r0 *= 2
  call add_one
  exit
