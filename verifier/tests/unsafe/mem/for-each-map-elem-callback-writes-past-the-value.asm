# name: for_each_map_elem callback writes past the value
# class: calls
# type: kprobe
# expect: OutOfBounds
# unsafe:
lddw %r1, map_idx 0
lddw %r2, code_addr cb
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
cb:
stdw [%r3+1], 1
mov %r0, 0
exit
# safe:
lddw %r1, map_idx 0
lddw %r2, code_addr cb
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
cb:
stdw [%r3+0], 1
mov %r0, 0
exit
