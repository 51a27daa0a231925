# name: reservation with a variable size
# class: ringbuf
# type: kprobe
# expect: HelperArg
# unsafe:
ldxdw %r2, [%r1+0]
and %r2, 8
lddw %r1, map_idx 2
mov %r3, 0
call 131
jeq %r0, 0, out
mov %r1, %r0
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
jeq %r0, 0, out
mov %r1, %r0
mov %r2, 0
call 132
out:
mov %r0, 0
exit
