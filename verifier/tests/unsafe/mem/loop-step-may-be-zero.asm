# name: loop step may be zero
# class: loop
# type: mem 8
# expect: UnboundedLoop
# unsafe:
ldxb %r3, [%r1+0]
and %r3, 1
mov %r0, 0
mov %r1, 0
loop:
add %r1, %r3
jlt %r1, 10, loop
exit
# safe:
ldxb %r3, [%r1+0]
or %r3, 1
mov %r0, 0
mov %r1, 0
loop:
add %r1, %r3
jlt %r1, 10, loop
exit
