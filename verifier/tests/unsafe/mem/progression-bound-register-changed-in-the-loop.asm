# name: progression: bound register changed in the loop
# class: relational
# type: mem 2048
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r7, 0
mov %r6, 20000
loop:
add %r7, 2
add %r6, 2
jne %r7, %r6, loop
exit
# safe:
mov %r0, 0
mov %r7, 0
mov %r6, 20000
loop:
add %r7, 2
add %r0, 2
jne %r7, %r6, loop
exit
