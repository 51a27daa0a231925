# name: pointer and counter: copy of the counter tested on one path only
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
ldxb %r5, [%r1+0]
mov %r0, 0
mov %r3, 0
mov %r6, 0
loop:
add %r3, 1
jeq %r5, 0, +1
mov %r6, %r3
add %r6, 1
jlt %r6, 1000, loop
exit
# safe:
ldxb %r5, [%r1+0]
mov %r0, 0
mov %r3, 0
mov %r6, 0
loop:
add %r3, 1
jeq %r5, 0, +0
mov %r6, %r3
add %r6, 1
jlt %r6, 1000, loop
exit
