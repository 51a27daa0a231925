# name: atomic with a pointer operand
# class: atomic
# type: mem 8
# expect: Atomic
# unsafe:
stdw [%r10-8], 0
lock add [%r10-8], %r1
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
lock add [%r10-8], %r2
mov %r0, 0
exit
