# name: double submit
# class: ringbuf
# type: kprobe
# expect: UninitRegister
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r6
mov %r2, 0
call 132
mov %r1, %r6
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
mov %r6, %r0
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit
