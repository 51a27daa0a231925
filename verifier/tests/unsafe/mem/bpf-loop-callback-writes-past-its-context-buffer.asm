# name: bpf_loop callback writes past its context buffer
# class: calls
# type: kprobe
# expect: OutOfBounds
# unsafe:
stdw [%r10-8], 0
mov %r1, 4
lddw %r2, code_addr cb
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
stb [%r2+8], 1
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
mov %r1, 4
lddw %r2, code_addr cb
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
stb [%r2+7], 1
mov %r0, 0
exit
