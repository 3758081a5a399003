# Lines llvm-mc 19 accepts that the text assembler refuses on purpose; scripts/golden/text-llvm-refusals.sh
# checks that llvm-mc accepts each and records what it printed.
# r11 is LLVM's internal stack register; the kernel has r0..r10 only:
r11 = 1
w11 = 1
# llvm-mc silently truncates these values (its print-out shows a different value); refused instead:
r1 = 4294967296
r1 = -2147483649
w1 = 0x100000000
r1 += 0x1ffffffff
if r1 > 4294967296 goto +1
