# name: helper argument not initialised
# class: helper-arg
# type: kprobe
# expect: UninitRegister
# unsafe:
mov %r1, %r10
add %r1, -8
mov %r2, 8
call 4
mov %r0, 0
exit
# safe:
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 4
mov %r0, 0
exit
