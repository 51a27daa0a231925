# name: xdp strncmp: string in the packet
# class: const-str
# type: xdp
# expect: HelperArg
# unsafe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 8
jgt %r4, %r3, out
mov %r3, %r2
stdw [%r10-16], 0
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 182
out:
mov %r0, 0
exit
# safe:
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 8
jgt %r4, %r3, out
lddw %r3, map_idx_value 3, 0
stdw [%r10-16], 0
mov %r1, %r10
add %r1, -16
mov %r2, 8
call 182
out:
mov %r0, 0
exit
