# name: callback reserves a record and keeps it
# class: callback-effects
# type: kprobe
# expect: UnreleasedReference
# unsafe:
mov %r1, 1
lddw %r2, code_addr cb
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r0, 0
exit
# safe:
mov %r1, 1
lddw %r2, code_addr cb
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, +3
mov %r1, %r0
mov %r2, 0
call 132
mov %r0, 0
exit
