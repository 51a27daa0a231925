# name: bpf_loop callback moves the packet end (xdp_adjust_tail), caller re-checks stale end
# class: callback-effects
# type: xdp
# expect: UninitRegister
# unsafe:
mov %r9, %r1
ldxw %r6, [%r9+0]
ldxw %r7, [%r9+4]
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
mov %r2, -4
call 65
mov %r0, 0
exit
# safe:
mov %r9, %r1
ldxw %r6, [%r9+0]
ldxw %r7, [%r9+4]
mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
mov %r1, 1
lddw %r2, code_addr cb
mov %r3, %r9
mov %r4, 0
call 181
ldxw %r6, [%r9+0]
ldxw %r7, [%r9+4]
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
mov %r2, -4
call 65
mov %r0, 0
exit
