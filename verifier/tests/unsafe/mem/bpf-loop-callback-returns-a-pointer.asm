# name: bpf_loop callback returns a pointer
# class: calls
# type: kprobe
# expect: InvalidType
# unsafe:
mov %r1, 4
lddw %r2, code_addr cb
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
mov %r0, %r10
exit
# safe:
mov %r1, 4
lddw %r2, code_addr cb
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
mov %r0, 0
exit
