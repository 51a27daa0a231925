# name: pointer stored into a ring-buffer record
# class: ptr-leak
# type: xdp
# expect: PointerLeak
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
stxdw [%r0+0], %r10
mov %r1, %r0
mov %r2, 0
call 132
out:
mov %r0, 0
exit
# safe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
stdw [%r0+0], 0
mov %r1, %r0
mov %r2, 0
call 132
out:
mov %r0, 0
exit
