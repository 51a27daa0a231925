# name: zero size where a positive size is required
# class: helper-arg
# type: kprobe
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 0
call 6
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
call 6
mov %r0, 0
exit
