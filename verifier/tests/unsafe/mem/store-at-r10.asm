# name: store at r10
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
stb [%r10+0], 0
mov %r0, 0
exit
# safe:
stb [%r10-1], 0
mov %r0, 0
exit
