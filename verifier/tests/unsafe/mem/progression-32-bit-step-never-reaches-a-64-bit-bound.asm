# name: progression: 32-bit step never reaches a 64-bit bound
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r7, 0
lddw %r6, 0x100000000
loop:
add32 %r7, 2
jne %r7, %r6, loop
exit
# safe:
mov %r0, 0
mov %r7, 0
lddw %r6, 0x100000000
loop:
add32 %r7, 2
jne32 %r7, 40000, loop
exit
