# name: xdp csum_diff(NULL, size in [0, 8], ...)
# class: null-size
# type: xdp
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
stdw [%r10-16], 0
call 7
mov %r2, %r0
and %r2, 8
mov %r1, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 28
exit
# safe:
stdw [%r10-8], 0
stdw [%r10-16], 0
call 7
mov %r2, %r0
and %r2, 0
mov %r1, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
mov %r5, 0
call 28
exit
