# Lines llvm-mc 19 (-mcpu=v4) refuses; scripts/golden/text-llvm-refusals.sh checks each one.
r0 = w1
w0 = r1
w1 += r2
r1 += w2
if r1 == w2 goto +1
r1 = *(u32 *)(w6 + 0)
*(u64 *)(r10 - 8) = w1
lock *(u64 *)(r1 + 0) += w2
r1 = -r2
w1 = 5 ll
r1 = *(u128 *)(r2 + 0)
goto
exit 1
call
foo r1
r1 =
r1 = (s64)r2
w1 = (s32)w2
if r1 ~ r2 goto +1
r0 = xchg_64(r1 + 0, r2)
r1 = cmpxchg_64(r1 + 0, r0, r2)
r1 = *(s64 *)(r2 + 0)
r1 s<<= 2
r1 = r2 + 1
if r1 > goto +1
r1 = *(u32 *)(r2 * 4)
lock *(u8 *)(r1 + 0) += r2
lock *(u64 *)(r1 + 0) -= r2
r1 = be16 r2
r0 = *(u64 *)skb[1]
r1 = *(u8 *)skb[1]
if r1 s== r2 goto +1
gotol
r1 = 1 2
r1 = *(u32 *)(r1 + 32768)
r1 = *(u32 *)(r1 + 65535)
*(u64 *)(r10 - 32769) = r1
goto +32768
goto +65535
