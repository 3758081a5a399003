# A sock_ops program in llvm syntax: counts callbacks per op in an array map
# (map reference resolved at load time) and asks for STATE_CB on TCP_CONNECT_CB.
# Round trip: sockops asm examples/op-counter.s -o op-counter.bin && sockops disasm op-counter.bin
    r6 = r1
    r1 = *(u32 *)(r6 + 0)
    *(u32 *)(r10 - 4) = r1
    if w1 != 3 goto LBB0_2
    r1 = r6
    r2 = 16
    call 59
LBB0_2:
    r1 = 0 ll
    r2 = r10
    r2 += -4
    call 1
    if r0 == 0 goto LBB0_4
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
LBB0_4:
    r0 = 1
    exit
