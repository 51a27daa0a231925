# name: tc: csum_diff over the context
# class: ctx-as-mem
# type: sched_cls
# expect: HelperArg
# unsafe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
mov %r1, %r6
add %r1, 76
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
mov %r0, 0
exit
# safe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
mov %r1, %r10
add %r1, -16
mov %r2, 8
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
mov %r0, 0
exit
