# name: load straddling the stack bottom
# class: stack-oob
# type: mem 8
# expect: OutOfBounds
# unsafe:
stdw [%r10-512], 1
ldxdw %r0, [%r10-516]
exit
# safe:
stdw [%r10-512], 1
ldxdw %r0, [%r10-512]
exit
