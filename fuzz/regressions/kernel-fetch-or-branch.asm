mov %r6, %r1
mov %r7, %r2
lddw %r0, 0xdf387b9298b73ead
mov32 %r1, 32768
mov %r2, -2147483648
mov32 %r3, -981778472
mov %r4, -1195958568
lddw %r5, 0x75c94d3f6f78958f
mov %r8, 0
mov %r9, 0
stdw [%r10-8], -1311055043
stdw [%r10-16], 626359600
stdw [%r10-24], 65535
stdw [%r10-32], -1609385131
stdw [%r10-40], -2147483648
stdw [%r10-48], 537183998
stdw [%r10-56], 2027984306
stdw [%r10-64], -1264950827
xor %r4, %r1
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
jle32 %r3, %r4, +14
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
jlt %r7, 71, +1
ja +0
ja +0
ja +0
ja +2
ja +0
ja +0
jle %r3, %r0, +4
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
rsh %r0, 41
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
smod32 %r0, 13
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
ja +0
jlt %r0, 10, +3
ja +0
stdw [%r10-40], -2147483648
ja +3
ja +0
stxdw [%r10-24], %r4
ja +0
ja +0
ja +0
lock fetch or [%r10-24], %r4
ja +0
ja +0
ja +0
ja +0
jle32 %r4, 172215218, +6
ja +0
ja +0
ja +0
add %r9, %r6
stxb [%r9+0], %r2
ja +0
exit
