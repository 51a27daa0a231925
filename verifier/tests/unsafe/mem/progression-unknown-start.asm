# name: progression: unknown start
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
ldxb %r7, [%r1+0]
mov %r0, 0
loop:
add %r7, 2
jne %r7, 1000, loop
exit
# safe:
ldxb %r7, [%r1+0]
and %r7, 0
mov %r0, 0
loop:
add %r7, 2
jne %r7, 1000, loop
exit
