# name: bpf_loop callback submits the caller's record: write after submit
# class: callback-effects
# type: kprobe
# expect: UninitRegister
# unsafe:
lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
jeq %r6, 0, out
mov %r1, 1
lddw %r2, code_addr cb
mov %r3, %r6
mov %r4, 0
call 181
stdw [%r6+0], 1
mov %r1, %r6
mov %r2, 0
call 133
out:
mov %r0, 0
exit
cb:
mov %r1, %r2
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
mov %r1, 1
lddw %r2, code_addr cb
mov %r3, %r6
mov %r4, 0
call 181
stdw [%r6+0], 1
mov %r1, %r6
mov %r2, 0
call 133
out:
mov %r0, 0
exit
cb:
stdw [%r2+0], 7
mov %r0, 0
exit
