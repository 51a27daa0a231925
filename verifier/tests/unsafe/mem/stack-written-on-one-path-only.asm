# name: stack written on one path only
# class: uninit-stack
# type: mem 8
# expect: UninitStack
# unsafe:
ldxb %r2, [%r1+0]
jeq %r2, 0, +1
stdw [%r10-8], 1
ldxdw %r0, [%r10-8]
exit
# safe:
ldxb %r2, [%r1+0]
stdw [%r10-8], 0
jeq %r2, 0, +1
stdw [%r10-8], 1
ldxdw %r0, [%r10-8]
exit
