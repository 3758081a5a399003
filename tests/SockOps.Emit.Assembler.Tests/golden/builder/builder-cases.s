r1 += 5
r3 += r9
w2 += 5
w4 += w5
r1 -= -7
r3 -= r9
w2 -= -7
w4 -= w5
r1 *= 2147483647
r3 *= r9
w2 *= 2147483647
w4 *= w5
r1 /= 3
r3 /= r9
w2 /= 3
w4 /= w5
r1 |= -2147483648
r3 |= r9
w2 |= -2147483648
w4 |= w5
r1 &= 255
r3 &= r9
w2 &= 255
w4 &= w5
r1 <<= 3
r3 <<= r9
w2 <<= 3
w4 <<= w5
r1 >>= 63
r3 >>= r9
w2 >>= 63
w4 >>= w5
r1 s>>= 7
r3 s>>= r9
w2 s>>= 7
w4 s>>= w5
r1 ^= -1
r3 ^= r9
w2 ^= -1
w4 ^= w5
r1 = 42
r3 = r9
w2 = 42
w4 = w5
r1 = -r1
w7 = -w7
r1 = be16 r1
r6 = le16 r6
r1 = be32 r1
r6 = le32 r6
r1 = be64 r1
r6 = le64 r6
r0 = 1311768467463790320 ll
r5 = -1 ll
r9 = 0 ll
r0 = *(u8 *)(r1 + 0)
*(u8 *)(r10 + 0) = r7
r0 = *(u16 *)(r1 + 2)
*(u16 *)(r10 + 2) = r7
r0 = *(u32 *)(r1 - 8)
*(u32 *)(r10 - 8) = r7
r0 = *(u64 *)(r1 + 32767)
*(u64 *)(r10 + 32767) = r7
lock *(u32 *)(r1 + 8) += w3
lock *(u32 *)(r1 + 8) |= w3
lock *(u32 *)(r1 + 8) &= w3
lock *(u32 *)(r1 + 8) ^= w3
lock *(u64 *)(r1 + 8) += r3
lock *(u64 *)(r1 + 8) |= r3
lock *(u64 *)(r1 + 8) &= r3
lock *(u64 *)(r1 + 8) ^= r3
r0 = *(u8 *)skb[4]
r0 = *(u8 *)skb[r2]
r0 = *(u16 *)skb[4]
r0 = *(u16 *)skb[r2]
r0 = *(u32 *)skb[4]
r0 = *(u32 *)skb[r2]
goto +3
goto -2
goto +0
if r1 == 5 goto +3
if r2 == r3 goto -2
if w1 == -5 goto +3
if w2 == w3 goto +1
if r1 != 5 goto +3
if r2 != r3 goto -2
if w1 != -5 goto +3
if w2 != w3 goto +1
if r1 > 5 goto +3
if r2 > r3 goto -2
if w1 > -5 goto +3
if w2 > w3 goto +1
if r1 >= 5 goto +3
if r2 >= r3 goto -2
if w1 >= -5 goto +3
if w2 >= w3 goto +1
if r1 < 5 goto +3
if r2 < r3 goto -2
if w1 < -5 goto +3
if w2 < w3 goto +1
if r1 <= 5 goto +3
if r2 <= r3 goto -2
if w1 <= -5 goto +3
if w2 <= w3 goto +1
if r1 s> 5 goto +3
if r2 s> r3 goto -2
if w1 s> -5 goto +3
if w2 s> w3 goto +1
if r1 s>= 5 goto +3
if r2 s>= r3 goto -2
if w1 s>= -5 goto +3
if w2 s>= w3 goto +1
if r1 s< 5 goto +3
if r2 s< r3 goto -2
if w1 s< -5 goto +3
if w2 s< w3 goto +1
if r1 s<= 5 goto +3
if r2 s<= r3 goto -2
if w1 s<= -5 goto +3
if w2 s<= w3 goto +1
call 1
call 59
exit
