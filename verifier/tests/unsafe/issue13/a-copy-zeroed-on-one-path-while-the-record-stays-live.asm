# name: a copy zeroed on one path while the record stays live
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
call 7
mov %r9, %r0
mov %r7, %r6
jset %r9, 1, +1
mov %r7, 0
jset %r9, 2, +1
mov %r0, 0
jset %r9, 4, +1
mov %r1, 0
jset %r9, 8, +1
mov %r2, 0
jset %r9, 16, +1
mov %r3, 0
jset %r9, 32, +1
mov %r4, 0
jset %r9, 64, +1
mov %r5, 0
jeq %r7, 0, out
mov %r1, %r7
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
call 7
mov %r9, %r0
mov %r7, %r6
jset %r9, 1, +1
mov %r7, 0
jset %r9, 2, +1
mov %r0, 0
jset %r9, 4, +1
mov %r1, 0
jset %r9, 8, +1
mov %r2, 0
jset %r9, 16, +1
mov %r3, 0
jset %r9, 32, +1
mov %r4, 0
jset %r9, 64, +1
mov %r5, 0
jeq %r7, 0, +4
mov %r1, %r7
mov %r2, 0
call 132
ja out
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit
