# name: inner loop never ends
# class: loop
# type: mem 8
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r1, 0
outer:
mov %r2, 0
inner:
add %r0, 1
jlt %r2, 4, inner
add %r1, 1
jlt %r1, 4, outer
exit
# safe:
mov %r0, 0
mov %r1, 0
outer:
mov %r2, 0
inner:
add %r2, 1
jlt %r2, 4, inner
add %r1, 1
jlt %r1, 4, outer
exit
