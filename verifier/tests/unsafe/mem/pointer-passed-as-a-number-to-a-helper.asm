# name: pointer passed as a number to a helper
# class: ptr-leak
# type: xdp
# expect: PointerLeak
# unsafe:
mov %r1, %r10
mov %r2, 0
call 23
mov %r0, 0
exit
# safe:
mov %r1, 1
mov %r2, 0
call 23
mov %r0, 0
exit
