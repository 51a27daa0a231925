# name: record written past its size
# class: ringbuf
# type: kprobe
# expect: OutOfBounds
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
stw [%r0+6], 1
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
stw [%r0+4], 1
mov %r1, %r0
mov %r2, 0
call 132
out:
mov %r0, 0
exit
