# name: infinite loop
# class: loop
# type: mem 8
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
loop:
ja loop
# safe:
mov %r0, 0
mov %r1, 0
loop:
add %r1, 1
jlt %r1, 10, loop
exit
