# name: reservation leaked through a tail call
# class: ringbuf
# type: sched_cls
# expect: UnreleasedReference
# unsafe:
mov %r9, %r1
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r9
lddw %r2, map_idx 3
mov %r3, 0
call 12
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit
# safe:
mov %r9, %r1
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r6
mov %r2, 0
call 132
mov %r1, %r9
lddw %r2, map_idx 3
mov %r3, 0
call 12
out:
mov %r0, 0
exit
