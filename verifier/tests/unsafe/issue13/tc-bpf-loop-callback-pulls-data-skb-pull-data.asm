# name: tc: bpf_loop callback pulls data (skb_pull_data)
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
mov %r1, 1
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
mov %r1, %r2
mov %r2, 0
call 39
mov %r0, 0
exit
# safe:
mov %r9, %r1
ldxw %r6, [%r9+76]
ldxw %r7, [%r9+80]
mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
mov %r1, 1
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
mov %r1, %r2
mov %r2, 0
call 39
mov %r0, 0
exit
