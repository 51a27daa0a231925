# name: store below r10-512
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
stdw [%r10-520], 0
mov %r0, 0
exit
# safe:
stdw [%r10-512], 0
mov %r0, 0
exit
