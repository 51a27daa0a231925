# name: trace_printk of the context
# class: ctx-as-mem
# type: xdp
# expect: HelperArg
# unsafe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
mov %r1, %r6
mov %r2, 8
call 6
mov %r0, 0
exit
# safe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 6
mov %r0, 0
exit
