# name: record spilled at a variable offset: the other candidate slot
# class: ref-var-off
# type: kprobe
# expect: UnreleasedReference
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
jeq %r6, 0, out
stdw [%r10-16], 0
stdw [%r10-8], 0
call 7
and %r0, 8
mov %r7, %r10
add %r7, -16
add %r7, %r0
stxdw [%r7+0], %r6
ldxdw %r8, [%r10-8]
jne %r8, 0, +1
ja out
mov %r1, %r8
mov %r2, 0
call 132
out:
mov %r0, 0
exit
# safe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
jeq %r6, 0, out
stdw [%r10-16], 0
stdw [%r10-8], 0
call 7
and %r0, 8
mov %r7, %r10
add %r7, -16
add %r7, %r0
stxdw [%r7+0], %r6
ldxdw %r8, [%r10-8]
jne %r8, 0, +4
mov %r1, %r6
mov %r2, 0
call 132
ja out
mov %r1, %r8
mov %r2, 0
call 132
out:
mov %r0, 0
exit
