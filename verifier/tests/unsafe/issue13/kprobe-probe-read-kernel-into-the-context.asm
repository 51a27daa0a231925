# name: kprobe: probe_read_kernel into the context
# class: ctx-as-mem
# type: kprobe
# expect: HelperArg
# unsafe:
mov %r6, %r1
mov %r1, %r6
mov %r2, 8
mov %r3, 0
call 113
mov %r0, 0
exit
# safe:
mov %r6, %r1
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 113
mov %r0, 0
exit
