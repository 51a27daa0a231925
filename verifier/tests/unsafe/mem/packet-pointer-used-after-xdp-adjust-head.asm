# name: packet pointer used after xdp_adjust_head
# class: packet
# type: xdp
# expect: UninitRegister
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
mov %r6, %r2
mov %r2, 0
call 44
ldxb %r5, [%r6+0]
mov %r0, 0
exit
drop:
mov %r0, 1
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
mov %r6, %r2
mov %r2, 0
ldxb %r5, [%r6+0]
call 44
mov %r0, 0
exit
drop:
mov %r0, 1
exit
