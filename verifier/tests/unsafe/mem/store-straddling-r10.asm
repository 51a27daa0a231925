# name: store straddling r10
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
stw [%r10-2], 0
mov %r0, 0
exit
# safe:
stw [%r10-4], 0
mov %r0, 0
exit
