# name: submit of an offset record
# class: ringbuf
# type: kprobe
# expect: HelperArg
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
mov %r1, %r0
add %r1, 4
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
add %r1, 0
mov %r2, 0
call 132
out:
mov %r0, 0
exit
