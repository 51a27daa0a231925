# name: r1-r5 clobbered by a helper call
# class: uninit-reg
# type: kprobe
# expect: UninitRegister
# unsafe:
mov %r3, 5
call 5
mov %r0, %r3
add %r0, 1
exit
# safe:
mov %r6, 5
call 5
mov %r0, %r6
add %r0, 1
exit
