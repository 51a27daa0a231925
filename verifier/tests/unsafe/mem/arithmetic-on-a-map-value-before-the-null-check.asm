# name: arithmetic on a map value before the null check
# class: map-value
# type: xdp
# expect: PointerArithmetic
# unsafe:
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
add %r0, 8
jeq %r0, 0, out
ja +0
out:
mov %r0, 0
exit
# safe:
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
add %r0, 8
out:
mov %r0, 0
exit
