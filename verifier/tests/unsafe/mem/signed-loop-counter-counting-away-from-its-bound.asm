# name: signed loop counter counting away from its bound
# class: loop
# type: mem 8
# expect: UnboundedLoop
# unsafe:
mov %r0, 0
mov %r1, 10
loop:
add %r1, 1
jsgt %r1, -5, loop
exit
# safe:
mov %r0, 0
mov %r1, 10
loop:
sub %r1, 1
jsgt %r1, -5, loop
exit
