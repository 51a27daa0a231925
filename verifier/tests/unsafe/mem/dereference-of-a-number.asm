# name: dereference of a number
# class: types
# type: mem 8
# expect: InvalidType
# unsafe:
mov %r2, 100
ldxb %r0, [%r2+0]
exit
# safe:
mov %r2, %r1
ldxb %r0, [%r2+0]
exit
