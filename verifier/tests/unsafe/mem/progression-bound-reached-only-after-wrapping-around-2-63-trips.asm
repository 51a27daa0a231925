# name: progression: bound reached only after wrapping around (2^63 trips)
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r7, 1
lddw %r6, 0xffffffffffffffff
loop:
add %r7, 2
jne %r7, %r6, loop
exit
# safe:
mov %r0, 0
mov %r7, 1
lddw %r6, 0xfffff
loop:
add %r7, 2
jne %r7, %r6, loop
exit
