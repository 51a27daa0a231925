# name: unbounded variable size
# class: helper-arg
# type: kprobe
# expect: HelperArg
# unsafe:
ldxdw %r2, [%r1+0]
mov %r1, %r10
add %r1, -16
mov %r3, 0
call 4
mov %r0, 0
exit
# safe:
ldxdw %r2, [%r1+0]
and %r2, 15
mov %r1, %r10
add %r1, -16
mov %r3, 0
call 4
mov %r0, 0
exit
