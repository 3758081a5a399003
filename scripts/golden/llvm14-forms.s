# Instruction forms LLVM 14's BPF assembler accepts (llvm-mc -triple bpf -mcpu=v3).
# One instruction per line; lines starting with '#' and blank lines are skipped by gen-llvm-golden.sh.
# Forms llvm-mc 14 cannot parse are given as raw bytes in llvm14-raw-forms.txt.
# Absent: "%=" (llvm-mc 14 rejects it; mod is in llvm14-raw-forms.txt).
# Deliberately absent: immediates outside int32 (llvm-mc 14 silently wraps them, e.g. r1 = -2147483649 -> 2147483647).
# ALU64, register source
r0 += r1
r1 += r2
r9 += r10
r5 += r0
r0 -= r1
r1 -= r2
r9 -= r10
r5 -= r0
r0 *= r1
r1 *= r2
r9 *= r10
r5 *= r0
r0 /= r1
r1 /= r2
r9 /= r10
r5 /= r0
r0 |= r1
r1 |= r2
r9 |= r10
r5 |= r0
r0 &= r1
r1 &= r2
r9 &= r10
r5 &= r0
r0 <<= r1
r1 <<= r2
r9 <<= r10
r5 <<= r0
r0 >>= r1
r1 >>= r2
r9 >>= r10
r5 >>= r0
r0 ^= r1
r1 ^= r2
r9 ^= r10
r5 ^= r0
r0 = r1
r1 = r2
r9 = r10
r5 = r0
r0 s>>= r1
r1 s>>= r2
r9 s>>= r10
r5 s>>= r0
# ALU64, immediate source
r0 += 0
r3 += 1
r6 += -1
r9 += 5
r2 += 255
r5 += -32768
r8 += 2147483647
r1 += -2147483648
r0 -= 0
r3 -= 1
r6 -= -1
r9 -= 5
r2 -= 255
r5 -= -32768
r8 -= 2147483647
r1 -= -2147483648
r0 *= 0
r3 *= 1
r6 *= -1
r9 *= 5
r2 *= 255
r5 *= -32768
r8 *= 2147483647
r1 *= -2147483648
r0 /= 0
r3 /= 1
r6 /= -1
r9 /= 5
r2 /= 255
r5 /= -32768
r8 /= 2147483647
r1 /= -2147483648
r0 |= 0
r3 |= 1
r6 |= -1
r9 |= 5
r2 |= 255
r5 |= -32768
r8 |= 2147483647
r1 |= -2147483648
r0 &= 0
r3 &= 1
r6 &= -1
r9 &= 5
r2 &= 255
r5 &= -32768
r8 &= 2147483647
r1 &= -2147483648
r0 <<= 0
r3 <<= 1
r6 <<= -1
r9 <<= 5
r2 <<= 255
r5 <<= -32768
r8 <<= 2147483647
r1 <<= -2147483648
r0 >>= 0
r3 >>= 1
r6 >>= -1
r9 >>= 5
r2 >>= 255
r5 >>= -32768
r8 >>= 2147483647
r1 >>= -2147483648
r0 ^= 0
r3 ^= 1
r6 ^= -1
r9 ^= 5
r2 ^= 255
r5 ^= -32768
r8 ^= 2147483647
r1 ^= -2147483648
r0 = 0
r3 = 1
r6 = -1
r9 = 5
r2 = 255
r5 = -32768
r8 = 2147483647
r1 = -2147483648
r0 s>>= 0
r3 s>>= 1
r6 s>>= -1
r9 s>>= 5
r2 s>>= 255
r5 s>>= -32768
r8 s>>= 2147483647
r1 s>>= -2147483648
# ALU32, register source
w0 += w1
w1 += w2
w9 += w10
w5 += w0
w0 -= w1
w1 -= w2
w9 -= w10
w5 -= w0
w0 *= w1
w1 *= w2
w9 *= w10
w5 *= w0
w0 /= w1
w1 /= w2
w9 /= w10
w5 /= w0
w0 |= w1
w1 |= w2
w9 |= w10
w5 |= w0
w0 &= w1
w1 &= w2
w9 &= w10
w5 &= w0
w0 <<= w1
w1 <<= w2
w9 <<= w10
w5 <<= w0
w0 >>= w1
w1 >>= w2
w9 >>= w10
w5 >>= w0
w0 ^= w1
w1 ^= w2
w9 ^= w10
w5 ^= w0
w0 = w1
w1 = w2
w9 = w10
w5 = w0
w0 s>>= w1
w1 s>>= w2
w9 s>>= w10
w5 s>>= w0
# ALU32, immediate source
w0 += 0
w7 += 1
w4 += -1
w1 += 5
w8 += 255
w5 += -32768
w2 += 2147483647
w9 += -2147483648
w0 -= 0
w7 -= 1
w4 -= -1
w1 -= 5
w8 -= 255
w5 -= -32768
w2 -= 2147483647
w9 -= -2147483648
w0 *= 0
w7 *= 1
w4 *= -1
w1 *= 5
w8 *= 255
w5 *= -32768
w2 *= 2147483647
w9 *= -2147483648
w0 /= 0
w7 /= 1
w4 /= -1
w1 /= 5
w8 /= 255
w5 /= -32768
w2 /= 2147483647
w9 /= -2147483648
w0 |= 0
w7 |= 1
w4 |= -1
w1 |= 5
w8 |= 255
w5 |= -32768
w2 |= 2147483647
w9 |= -2147483648
w0 &= 0
w7 &= 1
w4 &= -1
w1 &= 5
w8 &= 255
w5 &= -32768
w2 &= 2147483647
w9 &= -2147483648
w0 <<= 0
w7 <<= 1
w4 <<= -1
w1 <<= 5
w8 <<= 255
w5 <<= -32768
w2 <<= 2147483647
w9 <<= -2147483648
w0 >>= 0
w7 >>= 1
w4 >>= -1
w1 >>= 5
w8 >>= 255
w5 >>= -32768
w2 >>= 2147483647
w9 >>= -2147483648
w0 ^= 0
w7 ^= 1
w4 ^= -1
w1 ^= 5
w8 ^= 255
w5 ^= -32768
w2 ^= 2147483647
w9 ^= -2147483648
w0 = 0
w7 = 1
w4 = -1
w1 = 5
w8 = 255
w5 = -32768
w2 = 2147483647
w9 = -2147483648
w0 s>>= 0
w7 s>>= 1
w4 s>>= -1
w1 s>>= 5
w8 s>>= 255
w5 s>>= -32768
w2 s>>= 2147483647
w9 s>>= -2147483648
# neg
r0 = -r0
r1 = -r1
r9 = -r9
w0 = -w0
w1 = -w1
w9 = -w9
# endianness conversion
r0 = be16 r0
r1 = be16 r1
r9 = be16 r9
r0 = be32 r0
r1 = be32 r1
r9 = be32 r9
r0 = be64 r0
r1 = be64 r1
r9 = be64 r9
r0 = le16 r0
r1 = le16 r1
r9 = le16 r9
r0 = le32 r0
r1 = le32 r1
r9 = le32 r9
r0 = le64 r0
r1 = le64 r1
r9 = le64 r9
# unconditional jumps
goto +0
goto +1
goto +3
goto -1
goto -2
goto +32767
goto -32768
# JMP, register and immediate
if r0 == r1 goto +0
if r0 == 0 goto +0
if r1 == 5 goto +1
if r2 == -1 goto +3
if r3 == 2147483647 goto -1
if r4 == -2147483648 goto -2
if r1 != r2 goto +1
if r1 != 0 goto +1
if r2 != 5 goto +3
if r3 != -1 goto -1
if r4 != 2147483647 goto -2
if r5 != -2147483648 goto +32767
if r2 > r3 goto +3
if r2 > 0 goto +3
if r3 > 5 goto -1
if r4 > -1 goto -2
if r5 > 2147483647 goto +32767
if r6 > -2147483648 goto -32768
if r3 >= r4 goto -1
if r3 >= 0 goto -1
if r4 >= 5 goto -2
if r5 >= -1 goto +32767
if r6 >= 2147483647 goto -32768
if r7 >= -2147483648 goto +0
if r4 < r5 goto -2
if r4 < 0 goto -2
if r5 < 5 goto +32767
if r6 < -1 goto -32768
if r7 < 2147483647 goto +0
if r8 < -2147483648 goto +1
if r5 <= r6 goto +32767
if r5 <= 0 goto +32767
if r6 <= 5 goto -32768
if r7 <= -1 goto +0
if r8 <= 2147483647 goto +1
if r9 <= -2147483648 goto +3
if r6 s> r7 goto -32768
if r6 s> 0 goto -32768
if r7 s> 5 goto +0
if r8 s> -1 goto +1
if r9 s> 2147483647 goto +3
if r0 s> -2147483648 goto -1
if r7 s>= r8 goto +0
if r7 s>= 0 goto +0
if r8 s>= 5 goto +1
if r9 s>= -1 goto +3
if r0 s>= 2147483647 goto -1
if r1 s>= -2147483648 goto -2
if r8 s< r9 goto +1
if r8 s< 0 goto +1
if r9 s< 5 goto +3
if r0 s< -1 goto -1
if r1 s< 2147483647 goto -2
if r2 s< -2147483648 goto +32767
if r9 s<= r10 goto +3
if r9 s<= 0 goto +3
if r0 s<= 5 goto -1
if r1 s<= -1 goto -2
if r2 s<= 2147483647 goto +32767
if r3 s<= -2147483648 goto -32768
# JMP32, register and immediate
if w0 == w2 goto -1
if w1 == 0 goto +3
if w2 == 5 goto -1
if w3 == -1 goto -2
if w4 == 2147483647 goto +32767
if w5 == -2147483648 goto -32768
if w1 != w3 goto -2
if w2 != 0 goto -1
if w3 != 5 goto -2
if w4 != -1 goto +32767
if w5 != 2147483647 goto -32768
if w6 != -2147483648 goto +0
if w2 > w4 goto +32767
if w3 > 0 goto -2
if w4 > 5 goto +32767
if w5 > -1 goto -32768
if w6 > 2147483647 goto +0
if w7 > -2147483648 goto +1
if w3 >= w5 goto -32768
if w4 >= 0 goto +32767
if w5 >= 5 goto -32768
if w6 >= -1 goto +0
if w7 >= 2147483647 goto +1
if w8 >= -2147483648 goto +3
if w4 < w6 goto +0
if w5 < 0 goto -32768
if w6 < 5 goto +0
if w7 < -1 goto +1
if w8 < 2147483647 goto +3
if w9 < -2147483648 goto -1
if w5 <= w7 goto +1
if w6 <= 0 goto +0
if w7 <= 5 goto +1
if w8 <= -1 goto +3
if w9 <= 2147483647 goto -1
if w0 <= -2147483648 goto -2
if w6 s> w8 goto +3
if w7 s> 0 goto +1
if w8 s> 5 goto +3
if w9 s> -1 goto -1
if w0 s> 2147483647 goto -2
if w1 s> -2147483648 goto +32767
if w7 s>= w9 goto -1
if w8 s>= 0 goto +3
if w9 s>= 5 goto -1
if w0 s>= -1 goto -2
if w1 s>= 2147483647 goto +32767
if w2 s>= -2147483648 goto -32768
if w8 s< w10 goto -2
if w9 s< 0 goto -1
if w0 s< 5 goto -2
if w1 s< -1 goto +32767
if w2 s< 2147483647 goto -32768
if w3 s< -2147483648 goto +0
if w9 s<= w0 goto +32767
if w0 s<= 0 goto -2
if w1 s<= 5 goto +32767
if w2 s<= -1 goto -32768
if w3 s<= 2147483647 goto +0
if w4 s<= -2147483648 goto +1
# calls and exit
call 0
call 1
call 59
call 130
call 2147483647
call -1
exit
# 64-bit immediate loads
r0 = 0 ll
r1 = 1 ll
r2 = -1 ll
r3 = 1311768467463790320 ll
r4 = 9223372036854775807 ll
r5 = -9223372036854775808 ll
r6 = 4294967295 ll
r7 = 4294967296 ll
r8 = 2147483648 ll
r9 = -2147483649 ll
r10 = 5 ll
r1 = 0x123456789abcdef0 ll
# legacy packet loads (LD_ABS, LD_IND)
r0 = *(u8 *)skb[5]
r0 = *(u8 *)skb[0]
r0 = *(u8 *)skb[r1]
r0 = *(u8 *)skb[r7]
r0 = *(u16 *)skb[5]
r0 = *(u16 *)skb[0]
r0 = *(u16 *)skb[r1]
r0 = *(u16 *)skb[r7]
r0 = *(u32 *)skb[5]
r0 = *(u32 *)skb[0]
r0 = *(u32 *)skb[r1]
r0 = *(u32 *)skb[r7]
# loads
r0 = *(u8 *)(r1 + 0)
r1 = *(u8 *)(r2 + 5)
r2 = *(u8 *)(r3 - 8)
r3 = *(u8 *)(r4 + 32767)
r4 = *(u8 *)(r5 - 32768)
r1 = *(u8 *)(r10 - 8)
r0 = *(u16 *)(r1 + 0)
r1 = *(u16 *)(r2 + 5)
r2 = *(u16 *)(r3 - 8)
r3 = *(u16 *)(r4 + 32767)
r4 = *(u16 *)(r5 - 32768)
r1 = *(u16 *)(r10 - 8)
r0 = *(u32 *)(r1 + 0)
r1 = *(u32 *)(r2 + 5)
r2 = *(u32 *)(r3 - 8)
r3 = *(u32 *)(r4 + 32767)
r4 = *(u32 *)(r5 - 32768)
r1 = *(u32 *)(r10 - 8)
r0 = *(u64 *)(r1 + 0)
r1 = *(u64 *)(r2 + 5)
r2 = *(u64 *)(r3 - 8)
r3 = *(u64 *)(r4 + 32767)
r4 = *(u64 *)(r5 - 32768)
r1 = *(u64 *)(r10 - 8)
# loads into 32-bit registers (alu32)
w2 = *(u8 *)(r6 + 0)
w3 = *(u8 *)(r7 + 5)
w4 = *(u8 *)(r8 - 8)
w2 = *(u16 *)(r6 + 0)
w3 = *(u16 *)(r7 + 5)
w4 = *(u16 *)(r8 - 8)
w2 = *(u32 *)(r6 + 0)
w3 = *(u32 *)(r7 + 5)
w4 = *(u32 *)(r8 - 8)
# stores of registers
*(u8 *)(r1 + 0) = r0
*(u8 *)(r2 + 5) = r1
*(u8 *)(r3 - 8) = r2
*(u8 *)(r4 + 32767) = r3
*(u8 *)(r5 - 32768) = r4
*(u8 *)(r10 - 8) = r1
*(u16 *)(r1 + 0) = r0
*(u16 *)(r2 + 5) = r1
*(u16 *)(r3 - 8) = r2
*(u16 *)(r4 + 32767) = r3
*(u16 *)(r5 - 32768) = r4
*(u16 *)(r10 - 8) = r1
*(u32 *)(r1 + 0) = r0
*(u32 *)(r2 + 5) = r1
*(u32 *)(r3 - 8) = r2
*(u32 *)(r4 + 32767) = r3
*(u32 *)(r5 - 32768) = r4
*(u32 *)(r10 - 8) = r1
*(u64 *)(r1 + 0) = r0
*(u64 *)(r2 + 5) = r1
*(u64 *)(r3 - 8) = r2
*(u64 *)(r4 + 32767) = r3
*(u64 *)(r5 - 32768) = r4
*(u64 *)(r10 - 8) = r1
# stores of 32-bit registers (alu32)
*(u8 *)(r6 + 0) = w2
*(u8 *)(r7 + 5) = w3
*(u8 *)(r8 - 8) = w4
*(u16 *)(r6 + 0) = w2
*(u16 *)(r7 + 5) = w3
*(u16 *)(r8 - 8) = w4
*(u32 *)(r6 + 0) = w2
*(u32 *)(r7 + 5) = w3
*(u32 *)(r8 - 8) = w4
# atomics without fetch
lock *(u32 *)(r1 + 8) += w3
lock *(u32 *)(r1 + 8) += r3
lock *(u32 *)(r10 - 8) += w0
lock *(u32 *)(r1 + 8) |= w3
lock *(u32 *)(r2 - 4) |= w9
lock *(u32 *)(r1 + 8) &= w3
lock *(u32 *)(r2 - 4) &= w9
lock *(u32 *)(r1 + 8) ^= w3
lock *(u32 *)(r2 - 4) ^= w9
lock *(u64 *)(r1 + 8) += r3
lock *(u64 *)(r10 - 16) += r0
lock *(u64 *)(r1 + 8) |= r3
lock *(u64 *)(r10 - 16) |= r0
lock *(u64 *)(r1 + 8) &= r3
lock *(u64 *)(r10 - 16) &= r0
lock *(u64 *)(r1 + 8) ^= r3
lock *(u64 *)(r10 - 16) ^= r0
