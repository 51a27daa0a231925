# name: loop tests a register it never changes
# class: loop
# type: mem 8
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r1, 0
mov %r2, 0
loop:
add %r1, 1
jlt %r2, 10, loop
exit
# safe:
mov %r0, 0
mov %r1, 0
mov %r2, 0
loop:
add %r1, 1
jlt %r1, 10, loop
exit
