# name: two reservations, one leaked
# class: ringbuf
# type: kprobe
# expect: UnreleasedReference
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r7, %r0
jeq %r6, 0, +3
mov %r1, %r6
mov %r2, 0
call 132
jeq %r7, 0, +3
mov %r1, %r6
mov %r2, 0
ja +0
mov %r0, 0
exit
# safe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r7, %r0
jeq %r6, 0, +3
mov %r1, %r6
mov %r2, 0
call 132
jeq %r7, 0, +3
mov %r1, %r7
mov %r2, 0
call 132
mov %r0, 0
exit
