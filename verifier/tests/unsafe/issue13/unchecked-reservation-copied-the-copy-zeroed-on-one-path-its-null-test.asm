# name: unchecked reservation copied, the copy zeroed on one path: its null test releases the record
# class: ref-var-off
# type: kprobe
# expect: UnreleasedReference
# unsafe:
call 7
mov %r8, %r0
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
mov %r7, %r0
jset %r8, 1, +1
mov %r7, 0
jset %r8, 2, +1
mov %r0, 0
jset %r8, 4, +1
mov %r1, 0
jset %r8, 8, +1
mov %r2, 0
jset %r8, 16, +1
mov %r3, 0
jset %r8, 32, +1
mov %r4, 0
jset %r8, 64, +1
mov %r5, 0
jeq %r7, 0, out
mov %r1, %r7
mov %r2, 0
call 132
out:
mov %r0, 0
exit
# safe:
call 7
mov %r8, %r0
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
mov %r7, %r0
jset %r8, 1, +1
mov %r7, 0
jset %r8, 2, +1
mov %r0, 0
jset %r8, 4, +1
mov %r1, 0
jset %r8, 8, +1
mov %r2, 0
jset %r8, 16, +1
mov %r3, 0
jset %r8, 32, +1
mov %r4, 0
jset %r8, 64, +1
mov %r5, 0
jeq %r6, 0, out
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit
