# name: progression: step of i64::MIN in a register
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r7, 0
loop:
lddw %r1, 0x8000000000000000
add %r7, %r1
jne %r7, 1, loop
exit
# safe:
mov %r0, 0
mov %r7, 0
loop:
lddw %r1, 0x8000000000000000
add %r7, %r1
jne %r7, 0, loop
exit
