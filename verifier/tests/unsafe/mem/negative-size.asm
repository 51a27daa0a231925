# name: negative size
# class: helper-arg
# type: kprobe
# expect: HelperArg
# unsafe:
mov %r1, %r10
add %r1, -16
mov %r2, -8
mov %r3, 0
call 4
mov %r0, 0
exit
# safe:
mov %r1, %r10
add %r1, -16
mov %r2, 8
mov %r3, 0
call 4
mov %r0, 0
exit
