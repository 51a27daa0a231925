# name: callback submits the record it loads from the caller's stack
# class: callback-effects
# type: kprobe
# expect: UninitStack
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
jeq %r6, 0, out
stxdw [%r10-8], %r6
mov %r1, 1
lddw %r2, code_addr cb
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit
cb:
ldxdw %r1, [%r2+0]
mov %r2, 0
call 132
mov %r0, 0
exit
# safe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
jeq %r6, 0, out
stxdw [%r10-8], %r6
mov %r1, 1
lddw %r2, code_addr cb
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit
cb:
ldxdw %r1, [%r2+0]
stdw [%r1+0], 3
mov %r0, 0
exit
