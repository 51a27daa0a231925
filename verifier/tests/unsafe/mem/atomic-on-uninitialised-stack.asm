# name: atomic on uninitialised stack
# class: atomic
# type: mem 8
# expect: UninitStack
# unsafe:
mov %r1, 1
lock add [%r10-8], %r1
mov %r0, 0
exit
# safe:
stdw [%r10-8], 0
mov %r1, 1
lock add [%r10-8], %r1
mov %r0, 0
exit
