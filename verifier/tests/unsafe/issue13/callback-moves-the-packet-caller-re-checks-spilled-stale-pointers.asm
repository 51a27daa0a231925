# name: callback moves the packet, caller re-checks spilled stale pointers
# class: callback-effects
# type: xdp
# expect: UninitStack
# unsafe:
mov %r9, %r1
ldxw %r6, [%r9+0]
ldxw %r7, [%r9+4]
mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
stxdw [%r10-8], %r6
stxdw [%r10-16], %r7
mov %r1, 1
lddw %r2, code_addr cb
mov %r3, %r9
mov %r4, 0
call 181
ldxdw %r6, [%r10-8]
ldxdw %r7, [%r10-16]
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
stxdw [%r10-8], %r6
stxdw [%r10-16], %r7
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
