# name: submit of a stack pointer
# class: ringbuf
# type: kprobe
# expect: HelperArg
# unsafe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 0
call 132
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 0
call 5
mov %r0, 0
exit
