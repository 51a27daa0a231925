# name: context address stored in a map value
# class: pointer-leak
# type: xdp
# expect: PointerLeak
# unsafe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +1
stxdw [%r0+0], %r6
mov %r0, 0
exit
# safe:
mov %r6, %r1
stdw [%r10-16], 0
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +1
stdw [%r0+0], 0
mov %r0, 0
exit
