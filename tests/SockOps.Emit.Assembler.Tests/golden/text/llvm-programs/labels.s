# Forward and backward jumps to labels, with ld_imm64 (two slots) in between.
entry:
  r0 = 0
  r2 = 0x1122334455667788 ll       # two slots: labels after it count 2
  if r1 == 0 goto LBB0_3
  if w1 s> 5 goto LBB0_2
  if r1 != r2 goto .Ltmp1
LBB0_1:
  r0 += 1
  r3 = -1 ll
  if r0 < 10 goto LBB0_1
  goto LBB0_3
.Ltmp1:
  w0 = 7 // a C++-style comment
LBB0_2:
  if w0 <= w1 goto LBB0_1
  r1 = r2; r2 = r3
LBB0_3: exit
