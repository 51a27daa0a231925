# name: loop counter advanced on one path only
# class: loop
# type: mem 8
# expect: UnboundedLoop
# unsafe:
ldxb %r5, [%r1+0]
mov %r0, 0
mov %r1, 0
loop:
jeq %r5, 0, +1
add %r1, 1
jlt %r1, 10, loop
exit
# safe:
ldxb %r5, [%r1+0]
mov %r0, 0
mov %r1, 0
loop:
jeq %r5, 0, +0
add %r1, 1
jlt %r1, 10, loop
exit
