# name: loop steps over its exit value
# class: loop
# type: mem 8
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r1, 0
loop:
add32 %r1, 2
jne32 %r1, 5, loop
exit
# safe:
mov %r0, 0
mov %r1, 0
loop:
add32 %r1, 2
jlt32 %r1, 5, loop
exit
