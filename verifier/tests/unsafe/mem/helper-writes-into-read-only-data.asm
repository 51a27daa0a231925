# name: helper writes into read-only data
# class: helper-arg
# type: kprobe
# expect: ReadOnly
# unsafe:
lddw %r1, map_idx_value 1, 0
mov %r2, 8
mov %r3, 0
call 4
mov %r0, 0
exit
# safe:
lddw %r1, map_idx_value 4, 0
mov %r2, 8
mov %r3, 0
call 4
mov %r0, 0
exit
