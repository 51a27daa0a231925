# name: stack pointer stored into a map value
# class: ptr-leak
# type: xdp
# expect: PointerLeak
# unsafe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
stxdw [%r0+0], %r10
out:
mov %r0, 0
exit
# safe:
stw [%r10-4], 0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r6, 0
stxdw [%r0+0], %r6
out:
mov %r0, 0
exit
