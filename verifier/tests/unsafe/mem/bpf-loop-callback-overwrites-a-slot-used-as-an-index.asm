# name: bpf_loop callback overwrites a slot used as an index
# class: calls
# type: kprobe
# expect: OutOfBounds
# unsafe:
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r1, 4
lddw %r2, code_addr cb
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r6, [%r10-8]
mov %r7, %r10
add %r7, -16
add %r7, %r6
stb [%r7+0], 0
mov %r0, 0
exit
cb:
stdw [%r2+0], 100
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r1, 4
lddw %r2, code_addr cb
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r6, [%r10-8]
mov %r7, %r10
add %r7, -16
add %r7, %r6
stb [%r7+0], 0
mov %r0, 0
exit
cb:
stdw [%r2+0], 3
mov %r0, 0
exit
