# name: conditional reservation, tested after the join
# class: ref-var-off
# type: kprobe
# expect: UnreleasedReference
# unsafe:
call 7
mov %r6, 0
jset %r0, 1, join
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
join:
jeq %r6, 0, out
stdw [%r6+0], 2
out:
mov %r0, 0
exit
# safe:
call 7
mov %r6, 0
jset %r0, 1, join
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
join:
jeq %r6, 0, out
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit
