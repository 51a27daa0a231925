# name: progression: stepped past the bound before the first test
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r7, 10
loop:
add %r7, 2
jne %r7, 10, loop
exit
# safe:
mov %r0, 0
mov %r7, 8
loop:
add %r7, 2
jne %r7, 10, loop
exit
