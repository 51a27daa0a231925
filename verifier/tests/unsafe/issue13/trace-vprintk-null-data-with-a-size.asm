# name: trace_vprintk: NULL data with a size
# class: null-size
# type: kprobe
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 16
call 177
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, 0
call 177
mov %r0, 0
exit
