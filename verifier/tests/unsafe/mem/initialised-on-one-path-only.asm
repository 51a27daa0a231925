# name: initialised on one path only
# class: uninit-reg
# type: mem 8
# expect: UninitRegister
# unsafe:
ldxb %r2, [%r1+0]
jeq %r2, 0, +1
mov %r6, 1
mov %r0, %r6
add %r0, 0
exit
# safe:
ldxb %r2, [%r1+0]
mov %r6, 0
jeq %r2, 0, +1
mov %r6, 1
mov %r0, %r6
add %r0, 0
exit
