# name: tc: skb_load_bytes into the context (writes the host structure)
# class: ctx-as-mem
# type: sched_cls
# expect: HelperArg
# unsafe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
mov %r1, %r6
mov %r2, 0
mov %r3, %r6
mov %r4, 8
call 26
mov %r0, 0
exit
# safe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
mov %r1, %r6
mov %r2, 0
mov %r3, %r10
add %r3, -16
mov %r4, 8
call 26
mov %r0, 0
exit
