# name: r0 uninitialised on one exit path
# class: exit
# type: mem 8
# expect: UninitRegister
# unsafe:
ldxb %r2, [%r1+0]
jeq %r2, 0, +1
mov %r0, 1
exit
# safe:
ldxb %r2, [%r1+0]
mov %r0, 0
jeq %r2, 0, +1
mov %r0, 1
exit
