# name: atomic on packet data
# class: atomic
# type: xdp
# expect: Atomic
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
mov %r5, 1
lock add32 [%r2+0], %r5
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
mov %r5, 1
stw [%r10-8], 0
lock add32 [%r10-8], %r5
mov %r0, 0
exit
drop:
mov %r0, 1
exit
