# name: progression: step in a register, bound not a multiple
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
lddw %r7, 2654435761
lddw %r6, 53091369655762
loop:
lddw %r1, 2654435761
add %r7, %r1
jne %r7, %r6, loop
exit
# safe:
mov %r0, 0
lddw %r7, 2654435761
lddw %r6, 53091369655761
loop:
lddw %r1, 2654435761
add %r7, %r1
jne %r7, %r6, loop
exit
