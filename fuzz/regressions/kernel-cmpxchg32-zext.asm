lddw %r0, 0x100000000
stdw [%r10-8], 0
mov %r1, 5
lock cmpxchg32 [%r10-8], %r1
exit
