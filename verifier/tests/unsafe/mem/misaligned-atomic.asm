# name: misaligned atomic
# class: atomic
# type: mem 8
# expect: Atomic
# unsafe:
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r1, 1
lock add [%r10-12], %r1
mov %r0, 0
exit
# safe:
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r1, 1
lock add [%r10-16], %r1
mov %r0, 0
exit
