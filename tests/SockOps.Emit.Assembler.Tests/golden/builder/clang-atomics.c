/* Compiled by scripts/golden/builder-clang-expectations.sh: clang emits the fetch atomics that
   llvm-mc 14 cannot parse; llvm-objdump prints their bytes and text. */
long fetch_add(long *p, long v) { return __sync_fetch_and_add(p + 1, v); }
long fetch_and(long *p, long v) { return __sync_fetch_and_and(p + 2, v); }
long fetch_or(long *p, long v) { return __sync_fetch_and_or(p, v); }
long fetch_xor(long *p, long v) { return __sync_fetch_and_xor(p + 3, v); }
long exchange(long *p, long v) { return __sync_lock_test_and_set(p + 1, v); }
long compare_exchange(long *p, long old, long v) { return __sync_val_compare_and_swap(p + 4, old, v); }
