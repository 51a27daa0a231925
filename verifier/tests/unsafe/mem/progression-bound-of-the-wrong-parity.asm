# name: progression: bound of the wrong parity
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r7, 0
loop:
add %r7, 2
jne %r7, 20001, loop
exit
# safe:
mov %r0, 0
mov %r7, 0
loop:
add %r7, 2
jne %r7, 20000, loop
exit
