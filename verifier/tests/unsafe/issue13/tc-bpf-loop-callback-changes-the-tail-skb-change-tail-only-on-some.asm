# name: tc: bpf_loop callback changes the tail (skb_change_tail), only on some indices
# class: callback-effects
# type: sched_cls
# expect: UninitRegister
# unsafe:
mov %r9, %r1
ldxw %r6, [%r9+76]
ldxw %r7, [%r9+80]
mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
mov %r1, 8
lddw %r2, code_addr cb
mov %r3, %r9
mov %r4, 0
call 181

mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
ldxb %r0, [%r6+13]
mov %r0, 2
exit
drop:
mov %r0, 1
exit
cb:
jne %r1, 3, +4
mov %r1, %r2
mov %r2, 20
mov %r3, 0
call 38
mov %r0, 0
exit
# safe:
mov %r9, %r1
ldxw %r6, [%r9+76]
ldxw %r7, [%r9+80]
mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
mov %r1, 8
lddw %r2, code_addr cb
mov %r3, %r9
mov %r4, 0
call 181
ldxw %r6, [%r9+76]
ldxw %r7, [%r9+80]
mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
ldxb %r0, [%r6+13]
mov %r0, 2
exit
drop:
mov %r0, 1
exit
cb:
jne %r1, 3, +4
mov %r1, %r2
mov %r2, 20
mov %r3, 0
call 38
mov %r0, 0
exit
