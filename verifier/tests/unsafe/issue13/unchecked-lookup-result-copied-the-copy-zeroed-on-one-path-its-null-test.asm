# name: unchecked lookup result copied, the copy zeroed on one path: its null test refines the original
# class: ref-var-off
# type: xdp
# expect: PointerArithmetic
# unsafe:
call 7
mov %r8, %r0
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r9, %r0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
mov %r6, %r0
mov %r7, %r0
jset %r8, 1, +1
mov %r7, 0
jset %r8, 2, +1
mov %r0, 0
jset %r8, 4, +1
mov %r1, 0
jset %r8, 8, +1
mov %r2, 0
jset %r8, 16, +1
mov %r3, 0
jset %r8, 32, +1
mov %r4, 0
jset %r8, 64, +1
mov %r5, 0
jne %r7, 0, out
add %r9, %r6
stb [%r9+0], 1
out:
mov %r0, 0
exit
# safe:
call 7
mov %r8, %r0
stw [%r10-4], 0
lddw %r1, map_idx 4
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r9, %r0
lddw %r1, map_idx 0
mov %r2, %r10
add %r2, -4
call 1
mov %r6, %r0
mov %r7, %r0
jset %r8, 1, +1
mov %r7, 0
jset %r8, 2, +1
mov %r0, 0
jset %r8, 4, +1
mov %r1, 0
jset %r8, 8, +1
mov %r2, 0
jset %r8, 16, +1
mov %r3, 0
jset %r8, 32, +1
mov %r4, 0
jset %r8, 64, +1
mov %r5, 0
jne %r6, 0, out
add %r9, %r6
stb [%r9+0], 1
out:
mov %r0, 0
exit
