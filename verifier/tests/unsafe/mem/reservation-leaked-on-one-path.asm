# name: reservation leaked on one path
# class: ringbuf
# type: kprobe
# expect: UnreleasedReference
# unsafe:
ldxdw %r7, [%r1+0]
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
jeq %r7, 0, out
mov %r1, %r0
mov %r2, 0
call 132
out:
mov %r0, 0
exit
# safe:
ldxdw %r7, [%r1+0]
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
jeq %r7, 0, +0
mov %r1, %r0
mov %r2, 0
call 132
out:
mov %r0, 0
exit
