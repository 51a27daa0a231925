# name: record tested again after a join with its failed reservation
# class: ref-var-off
# type: kprobe
# expect: UnreleasedReference
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
jeq %r6, 0, skip
stdw [%r6+0], 1
skip:
jeq %r6, 0, out
stdw [%r6+0], 2
out:
mov %r0, 0
exit
# safe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
jeq %r6, 0, skip
stdw [%r6+0], 1
skip:
jeq %r6, 0, out
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit
